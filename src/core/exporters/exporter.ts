/**
 * Exporters turn a build's result into something outside the engine: a directory, a tar
 * stream, an image. Attributes are validated before the solve starts (resolve), so a typo in
 * `--output` fails fast instead of after a long build.
 */
export interface BuildResult {
  /** Runs fn with the result's filesystem mounted read-only at a directory (empty for scratch). */
  withMounted<T>(fn: (dir: string) => Promise<T>): Promise<T>;
}

export interface ExporterInstance {
  /** A short description for progress: "exporting to directory /out". */
  readonly description: string;
  export(result: BuildResult, signal: AbortSignal): Promise<Record<string, string>>;
}

export interface Exporter {
  readonly type: string;
  resolve(attrs: Readonly<Record<string, string>>): ExporterInstance;
}
