import { mkdtemp, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Digest } from "../digest.ts";
import { withTask, type ProgressTask } from "../progress/task.ts";
import type { BuildResult, ExporterInstance, ExportProgress } from "../exporters/exporter.ts";
import type { ProgressWriter } from "../progress/events.ts";

/** Runs one exporter as a vertex of its own, so displays and traces show the export step; it follows inputs. */
export function exportWithProgress(
  exporter: ExporterInstance,
  result: BuildResult,
  opts: { progress: ProgressWriter; signal: AbortSignal; inputs?: readonly Digest[] },
): Promise<Record<string, string>> {
  return withTask(opts.progress, exporter.description, (task) => exporter.export(result, opts.signal, stepsOf(task)), { inputs: opts.inputs });
}

/** An export's steps as status lines of its vertex (started, then completed when the work settles). */
function stepsOf(task: ProgressTask): ExportProgress {
  return {
    async step(name, work) {
      task.status(name, 0);
      try {
        return await work();
      } finally {
        task.status(name, 0, undefined, true);
      }
    },
    warn: (text) => task.warn(text),
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
