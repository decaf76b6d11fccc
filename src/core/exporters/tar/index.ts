import fs, { createWriteStream, readdirSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, posix, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Writable } from "node:stream";
import { pack } from "tar-fs";
import { withContext } from "../../errors.ts";
import { NO_EXPORT_PROGRESS, platformDirName, type BuildResult, type Exporter, type ExporterInstance, type PlatformResult } from "../exporter.ts";
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
              dest === "-" ? writeResult(result, opts.stdout ?? defaultStdout, signal, epoch) : exportToFile(dest, result, signal, epoch),
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
    await writeResult(result, () => createWriteStream(partial), signal, epoch);
    await rename(partial, dest);
  } finally {
    await rm(partial, { force: true });
  }
}

/**
 * The result as a tar on out: its files, or each platform's under a directory named after it.
 * out is opened only once the files are there (a client's stream must not wait on a mount).
 */
function writeResult(result: BuildResult, out: () => Writable, signal: AbortSignal, epoch: number | undefined): Promise<void> {
  return result.platforms ? writePlatforms(result.platforms, out, signal, epoch) : result.withMounted((dir) => writeTar(dir, out(), signal, epoch));
}

/** epoch: seconds since the epoch every entry is dated with (source-date-epoch). */
function writeTar(dir: string, out: Writable, signal: AbortSignal, epoch: number | undefined): Promise<void> {
  const stream = pack(dir, packOptions(dir, epoch) as Parameters<typeof pack>[1]);
  return pipeline(stream, out, { signal, end: out !== process.stdout });
}

/**
 * Entries in sorted order so the same tree gives the same tar; no entry for the root itself,
 * and directories named with a trailing slash, as BuildKit's tar exporter writes. Under
 * `subdir` (one platform of several), names are put under it and so are absolute symlink
 * targets, as fsutil's SubDirFS gives them to BuildKit's tar writer.
 */
function packOptions(dir: string, epoch: number | undefined, subdir?: string): Record<string, unknown> {
  const mtime = epoch === undefined ? undefined : new Date(epoch * 1000);
  return {
    sort: true, // in tar-fs, not in its types
    entries: readdirSync(dir).sort(),
    map: (header: { name: string; type?: string | null; mtime?: Date }) => {
      if (header.type === "directory" && !header.name.endsWith("/")) header.name += "/";
      if (subdir !== undefined) header.name = `${subdir}/${header.name}`;
      if (mtime) header.mtime = mtime;
      return header;
    },
    ...(subdir === undefined
      ? {}
      : {
          fs: {
            ...fs,
            readlink: (path: string, done: (err: NodeJS.ErrnoException | null, target?: string) => void) =>
              fs.readlink(path, (err, target) => done(err, target?.startsWith("/") ? posix.join(`/${subdir}`, target) : target)),
          },
        }),
  };
}

/** Several platforms in one tar: a directory entry per platform (0755), then its files under it. */
async function writePlatforms(parts: readonly PlatformResult[], open: () => Writable, signal: AbortSignal, epoch: number | undefined): Promise<void> {
  const { pack: newPack } = await import("tar-stream");
  const shared = newPack();
  const out = open();
  const piped = pipeline(shared, out, { signal, end: out !== process.stdout });
  try {
    for (const part of parts) {
      const subdir = platformDirName(part.id);
      await new Promise<void>((resolve, reject) =>
        shared.entry({ name: `${subdir}/`, type: "directory", mode: 0o755, uid: 0, gid: 0, mtime: new Date((epoch ?? 0) * 1000) }, (err) => (err ? reject(err) : resolve())),
      );
      await part.result.withMounted(
        (dir) =>
          new Promise<void>((resolve, reject) => {
            const failed = (err: Error) => reject(err);
            shared.once("error", failed);
            pack(dir, { ...packOptions(dir, epoch, subdir), pack: shared, finalize: false, finish: () => (shared.off("error", failed), resolve()) } as Parameters<typeof pack>[1]);
          }),
      );
    }
    shared.finalize();
  } catch (err) {
    shared.destroy(err instanceof Error ? err : new Error(String(err)));
  }
  await piped;
}
