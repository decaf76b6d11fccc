import { createWriteStream } from "node:fs";
import { readdirSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Writable } from "node:stream";
import { pack } from "tar-fs";
import { withContext } from "../../errors.ts";
import { NO_EXPORT_PROGRESS, type BuildResult, type Exporter, type ExporterInstance } from "../exporter.ts";
import { parseSourceDateEpoch, rejectUnknownAttrs, requireDest, SOURCE_DATE_EPOCH_ATTR } from "../spec.ts";

/**
 * `--output type=tar,dest=FILE|-`: the result's files as one tar stream. A file is written
 * under a temporary name and renamed when complete; "-" streams to stdout.
 */
export function createTarExporter(opts: { stdout?: () => Writable } = {}): Exporter {
  return {
    type: "tar",
    resolve(attrs): ExporterInstance {
      // attestation-prefix and prefer-nondist-layers concern attestations and image layers, neither made here: accepted, unused.
      rejectUnknownAttrs("tar", attrs, ["dest", SOURCE_DATE_EPOCH_ATTR, "attestation-prefix", "prefer-nondist-layers"]);
      const raw = requireDest("tar", attrs);
      const epoch = parseSourceDateEpoch("tar", attrs[SOURCE_DATE_EPOCH_ATTR]);
      const dest = raw === "-" ? "-" : resolve(raw);
      return {
        description: "exporting to client tarball",
        async export(result: BuildResult, signal: AbortSignal, progress = NO_EXPORT_PROGRESS) {
          try {
            await progress.step("sending tarball", () =>
              dest === "-" ? result.withMounted((dir) => writeTar(dir, (opts.stdout ?? defaultStdout)(), signal, epoch)) : exportToFile(dest, result, signal, epoch),
            );
          } catch (err) {
            throw withContext(`exporting tar to ${dest === "-" ? "stdout" : dest}`, err);
          }
          const response: Record<string, string> = dest === "-" ? {} : { "tar.dest": dest };
          return response;
        },
      };
    },
  };
}

function defaultStdout(): Writable {
  return process.stdout;
}

async function exportToFile(dest: string, result: BuildResult, signal: AbortSignal, epoch: number | undefined): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const partial = `${dest}.partial-${process.pid}`;
  try {
    await result.withMounted((dir) => writeTar(dir, createWriteStream(partial), signal, epoch));
    await rename(partial, dest);
  } finally {
    await rm(partial, { force: true });
  }
}

/** epoch: seconds since the epoch every entry is dated with (source-date-epoch). */
function writeTar(dir: string, out: Writable, signal: AbortSignal, epoch: number | undefined): Promise<void> {
  // Entries in sorted order so the same tree gives the same tar; no entry for the root
  // itself, and directories named with a trailing slash, as BuildKit's tar exporter writes.
  const mtime = epoch === undefined ? undefined : new Date(epoch * 1000);
  const options = {
    sort: true, // in tar-fs, not in its types
    entries: readdirSync(dir).sort(),
    map: (header: { name: string; type?: string | null; mtime?: Date }) => {
      if (header.type === "directory" && !header.name.endsWith("/")) header.name += "/";
      if (mtime) header.mtime = mtime;
      return header;
    },
  };
  const stream = pack(dir, options as unknown as Parameters<typeof pack>[1]);
  return pipeline(stream, out, { signal, end: out !== process.stdout });
}
