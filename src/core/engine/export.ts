import { mkdtemp, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Digest } from "../digest.ts";
import { sha256 } from "../digest.ts";
import type { BuildResult, ExporterInstance, ExportProgress } from "../exporters/exporter.ts";
import type { ProgressWriter } from "../progress/events.ts";

/** Runs one exporter as a vertex of its own, so displays and traces show the export step. */
export async function exportWithProgress(
  exporter: ExporterInstance,
  result: BuildResult,
  opts: { progress: ProgressWriter; signal: AbortSignal; inputs?: readonly Digest[] },
): Promise<Record<string, string>> {
  const digest = sha256(`export:${exporter.description}:${Date.now()}`) as Digest;
  const vertex = { type: "vertex" as const, digest, name: exporter.description, inputs: [...(opts.inputs ?? [])] };
  const started = Date.now();
  opts.progress.write({ ...vertex, started });
  try {
    const response = await exporter.export(result, opts.signal, stepsOf(digest, opts.progress));
    opts.progress.write({ ...vertex, started, completed: Date.now() });
    return response;
  } catch (err) {
    opts.progress.write({ ...vertex, started, completed: Date.now(), error: err instanceof Error ? err.message : String(err) });
    throw err;
  }
}

/** An export's steps as status lines of its vertex (started, then completed when the work settles). */
function stepsOf(vertex: Digest, progress: ProgressWriter): ExportProgress {
  return {
    async step(name, work) {
      const started = Date.now();
      progress.write({ type: "status", vertex, id: name, current: 0, started });
      try {
        return await work();
      } finally {
        progress.write({ type: "status", vertex, id: name, current: 0, started, completed: Date.now() });
      }
    },
  };
}

/** Runs fn with an empty directory: the files of a scratch result. */
export async function withEmptyDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "buildkit-empty-"));
  try {
    return await fn(dir);
  } finally {
    await rmdir(dir);
  }
}
