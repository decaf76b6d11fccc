import { resolve } from "node:path";
import { withContext } from "../../errors.ts";
import { NO_EXPORT_PROGRESS, type BuildResult, type Exporter, type ExporterInstance } from "../exporter.ts";
import { rejectUnknownAttrs, requireDest } from "../spec.ts";
import { writeInto } from "./write-into.ts";

/**
 * `--output type=local,dest=DIR`: the result's files written into DIR (created if missing), as
 * BuildKit does: same-named entries are replaced, file by file through a temporary name;
 * nothing else in DIR is touched (see write-into.ts).
 */
export function createLocalExporter(): Exporter {
  return {
    type: "local",
    resolve(attrs): ExporterInstance {
      rejectUnknownAttrs("local", attrs, ["dest"]);
      const dest = resolve(requireDest("local", attrs));
      return {
        description: "exporting to client directory",
        async export(result: BuildResult, signal: AbortSignal, progress = NO_EXPORT_PROGRESS) {
          try {
            await progress.step("copying files", () => exportTo(dest, result, signal));
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
  await result.withMounted((dir) => writeInto(dir, dest, signal));
}
