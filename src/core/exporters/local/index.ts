import { chmodSync, utimesSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { withContext } from "../../errors.ts";
import { copiedParts, NO_EXPORT_PROGRESS, type BuildResult, type Exporter, type ExporterInstance } from "../exporter.ts";
import { parseSourceDateEpoch, rejectUnknownAttrs, requireDest, SOURCE_DATE_EPOCH_ATTR } from "../spec.ts";
import { writeInto } from "./write-into.ts";
import { attestationFiles } from "./attestation-files.ts";

/**
 * `--output type=local,dest=DIR`: the result's files written into DIR (created if missing), as
 * BuildKit does: same-named entries are replaced, file by file through a temporary name;
 * nothing else in DIR is touched (see write-into.ts). With source-date-epoch every entry is
 * dated then.
 */
export function createLocalExporter(): Exporter {
  return {
    type: "local",
    resolve(attrs): ExporterInstance {
      // attestation-prefix: put before each attestation's file name (provenance.json).
      rejectUnknownAttrs("local", attrs, ["dest", SOURCE_DATE_EPOCH_ATTR, "attestation-prefix"]);
      const dest = resolve(requireDest("local", attrs));
      const epoch = parseSourceDateEpoch("local", attrs[SOURCE_DATE_EPOCH_ATTR]);
      const prefix = attrs["attestation-prefix"] ?? "";
      return {
        description: "exporting to client directory",
        async export(result: BuildResult, signal: AbortSignal, progress = NO_EXPORT_PROGRESS) {
          try {
            // Several platforms: each into a directory named after it (DIR/linux_arm64), as BuildKit's local exporter writes them.
            for (const part of copiedParts(result)) {
              const into = part.subdir === undefined ? dest : join(dest, part.subdir);
              await progress.step(part.step, () =>
                part.result.withMounted(async (dir) => {
                  await writeInto(dir, into, signal, { epoch, subdir: part.subdir });
                  // The attestation statements beside the files: 0600, dated the epoch or now, as BuildKit's CreateFS.
                  const when = epoch ?? Date.now() / 1000;
                  for (const file of await attestationFiles(part.result, dir, prefix)) {
                    const path = join(into, file.name);
                    writeFileSync(path, file.data, { mode: 0o600 });
                    chmodSync(path, 0o600);
                    utimesSync(path, when, when);
                  }
                }),
              );
              // A platform's directory is dated as BuildKit sends it: the epoch, else the zero time.
              if (part.subdir !== undefined) utimesSync(into, epoch ?? 0, epoch ?? 0);
            }
          } catch (err) {
            throw withContext(`exporting to ${dest}`, err);
          }
          return { "local.dest": dest };
        },
      };
    },
  };
}
