import { cp, mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { withContext } from "../../errors.ts";
import type { BuildResult, Exporter, ExporterInstance } from "../exporter.ts";
import { rejectUnknownAttrs, requireDest } from "../spec.ts";

/**
 * `--output type=local,dest=DIR`: the result's files in a directory. They are copied into a
 * sibling temporary directory first and renamed into place, so a failed or interrupted
 * export never leaves a half-written DIR; an existing DIR is replaced as a whole.
 */
export function createLocalExporter(): Exporter {
  return {
    type: "local",
    resolve(attrs): ExporterInstance {
      rejectUnknownAttrs("local", attrs, ["dest"]);
      const dest = resolve(requireDest("local", attrs));
      return {
        description: `exporting to directory ${dest}`,
        async export(result: BuildResult, signal: AbortSignal) {
          try {
            await exportTo(dest, result, signal);
          } catch (err) {
            throw withContext(`exporting to ${dest}`, err);
          }
          return { "local.dest": dest };
        },
      };
    },
  };
}

async function exportTo(dest: string, result: BuildResult, signal: AbortSignal): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const staging = join(dirname(dest), `.${basename(dest)}.partial-${process.pid}-${Date.now()}`);
  try {
    await result.withMounted(async (dir) => {
      await cp(dir, staging, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true, errorOnExist: false, force: true });
    });
    signal.throwIfAborted();
    await replace(staging, dest);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Moves staging to dest; an existing dest is moved aside first and removed after. */
async function replace(staging: string, dest: string): Promise<void> {
  const existing = await stat(dest).catch(() => undefined);
  if (!existing) return rename(staging, dest);
  const old = `${staging}.old`;
  await rename(dest, old);
  try {
    await rename(staging, dest);
  } catch (err) {
    await rename(old, dest);
    throw err;
  }
  await rm(old, { recursive: true, force: true });
}
