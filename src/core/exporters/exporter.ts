/**
 * Exporters turn a build's result into something outside the engine: a directory, a tar
 * stream, an image. Attributes are validated before the solve starts (resolve), so a typo in
 * `--output` fails fast instead of after a long build.
 */
import type { Digest } from "../digest.ts";
import type { LayerChoice } from "../image/image-layers.ts";
import type { Platform } from "../llb/platform.ts";
import type { InTotoSubject } from "../provenance/statement.ts";
import type { Worker } from "../worker/worker.ts";

/** An image layer as the manifest lists it, with its diffID. */
export interface ImageLayerRef {
  readonly digest: Digest;
  readonly diffID: Digest;
}

export interface BuildResult {
  /** Runs fn with the result's filesystem mounted read-only at a directory (empty for scratch). */
  withMounted<T>(fn: (dir: string) => Promise<T>): Promise<T>;
  /**
   * The worker holding the result. Image exporters read snapshots through it (one layer per
   * snapshot of the result's parent chain) and keep blobs under its root.
   */
  readonly worker?: Worker;
  /** The result's committed snapshot name; undefined for an empty (scratch) result. */
  readonly snapshot?: string;
  /** What made a snapshot (its vertex name), for image history; undefined when unknown. */
  describe?(snapshot: string): string | undefined;
  /** The frontend's result metadata: "containerimage.config" is the image config to export with. */
  readonly metadata?: Readonly<Record<string, Uint8Array>>;
  /**
   * With `--export-cache type=inline`: the build's cache records whose results are made of an
   * image's layers (base first, made as the image's are), as the JSON bytes to embed
   * in its config; undefined when none is. Image-making exporters call it; others ignore it.
   */
  inlineCache?(layers: readonly ImageLayerRef[], opts: LayerChoice): Promise<Uint8Array | undefined>;
  /**
   * A multi-platform result (BuildKit's Refs map), in the order the frontend's refs.platforms
   * lists them: each platform's own result. The fields above then describe no result: exporters
   * export every platform (an image index, a directory per platform).
   */
  readonly platforms?: readonly PlatformResult[];
  /**
   * In-toto attestations of this result (`attest:sbom`, `attest:provenance`): image exporters
   * add an attestation manifest per platform, local and tar exporters a statement file each.
   * Each platform of a multi-platform result carries its own.
   */
  readonly attestations?: readonly ResultAttestation[];
}

/** An in-toto attestation of a result (BuildKit's exporter.Attestation of kind in-toto, bundles already unbundled). */
export interface ResultAttestation {
  readonly predicateType: string;
  /** The file name local and tar exports write its statement under ("provenance.json", "sbom.spdx.json"). */
  readonly path: string;
  /** inline-only: only the image exporter (which forces inline attestations) exports it. */
  readonly inlineOnly: boolean;
  /**
   * Subjects of its own (a scanner's statement that names them: kind raw); absent or empty, the
   * exported artifact is the subject (kind self: the image manifest, or each exported file).
   */
  readonly subjects?: readonly InTotoSubject[];
  /** The predicate as a JSON-ready value in Go's field order; made when an exporter asks (its finish time is then). */
  predicate(): unknown;
}

/** The attestations an exporter writes: inline-only ones only when it forces inline attestations (the image exporter). */
export function exportedAttestations(result: BuildResult, opts: { forceInline: boolean }): readonly ResultAttestation[] {
  return (result.attestations ?? []).filter((a) => opts.forceInline || !a.inlineOnly);
}

/** The directory a platform's files go to in a local or tar export of several platforms: "linux_arm64". */
export const platformDirName = (id: string): string => id.replaceAll("/", "_");

/** What a local export copies: the result, or each platform's result into its directory, with BuildKit's step names. */
export function copiedParts(result: BuildResult): { readonly step: string; readonly result: BuildResult; readonly subdir?: string }[] {
  if (!result.platforms) return [{ step: "copying files", result }];
  return result.platforms.map((part) => ({ step: `copying files ${part.id}`, result: part.result, subdir: platformDirName(part.id) }));
}

/** One platform's part of a multi-platform result. */
export interface PlatformResult {
  /** The platform's ID as refs.platforms names it ("linux/arm64"). */
  readonly id: string;
  readonly platform: Platform;
  /** Its result, with the metadata picked for it: KEY/ID over KEY (exptypes.ParseKey). */
  readonly result: BuildResult;
}

/** Where an export reports its steps: lines under its vertex, as BuildKit's progress.OneOff. */
export interface ExportProgress {
  /** A step that starts now and is done when work settles ("exporting layers", "sending tarball"). */
  step<T>(name: string, work: () => Promise<T>): Promise<T>;
  /** A `warning:` line on the export's vertex. */
  warn?(text: string): void;
}

/** For callers that show no progress. */
export const NO_EXPORT_PROGRESS: ExportProgress = { step: (_name, work) => work() };

export interface ExporterInstance {
  /** The export's vertex name, BuildKit's: "exporting to image", "exporting to client directory". */
  readonly description: string;
  export(result: BuildResult, signal: AbortSignal, progress?: ExportProgress): Promise<Record<string, string>>;
}

export interface Exporter {
  readonly type: string;
  resolve(attrs: Readonly<Record<string, string>>): ExporterInstance;
}
