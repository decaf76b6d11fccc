import fs, { createWriteStream, readdirSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Writable } from "node:stream";
import { pack } from "tar-fs";
import { withContext } from "../../errors.ts";
import { NO_EXPORT_PROGRESS, platformDirName, type BuildResult, type Exporter, type ExporterInstance, type PlatformResult } from "../exporter.ts";
import { attestationFiles } from "../local/attestation-files.ts";
import { parseSourceDateEpoch, rejectUnknownAttrs, requireDest, SOURCE_DATE_EPOCH_ATTR } from "../spec.ts";

/**
 * `--output type=tar,dest=FILE|-`: the result's files as one tar stream. A file is written
 * under a temporary name and renamed when complete; "-" streams to stdout.
 */
export function createTarExporter(opts: { stdout?: () => Writable } = {}): Exporter {
  return {
    type: "tar",
    resolve(attrs): ExporterInstance {
      // attestation-prefix: put before each attestation's file name (provenance.json); prefer-nondist-layers concerns image layers: accepted, unused.
      rejectUnknownAttrs("tar", attrs, ["dest", SOURCE_DATE_EPOCH_ATTR, "attestation-prefix", "prefer-nondist-layers"]);
      const prefix = attrs["attestation-prefix"] ?? "";
      const raw = requireDest("tar", attrs);
      const epoch = parseSourceDateEpoch("tar", attrs[SOURCE_DATE_EPOCH_ATTR]);
      const dest = raw === "-" ? "-" : resolve(raw);
      return {
        description: "exporting to client tarball",
        async export(result: BuildResult, signal: AbortSignal, progress = NO_EXPORT_PROGRESS) {
          try {
            await progress.step("sending tarball", () =>
              dest === "-" ? writeResult(result, opts.stdout ?? defaultStdout, signal, epoch, prefix) : exportToFile(dest, result, signal, epoch, prefix),
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

async function exportToFile(dest: string, result: BuildResult, signal: AbortSignal, epoch: number | undefined, prefix: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const partial = `${dest}.partial-${process.pid}`;
  try {
    await writeResult(result, () => createWriteStream(partial), signal, epoch, prefix);
    await rename(partial, dest);
  } finally {
    await rm(partial, { force: true });
  }
}

/**
 * The result as a tar on out: its files, or each platform's under a directory named after it,
 * with the attestation statements beside them (as BuildKit's tar exporter, through local's
 * CreateFS). out is opened only once the files are there (a client's stream must not wait on a mount).
 */
function writeResult(result: BuildResult, out: () => Writable, signal: AbortSignal, epoch: number | undefined, prefix: string): Promise<void> {
  if (result.platforms) return writePlatforms(result.platforms, out, signal, epoch, prefix);
  return result.withMounted((dir) => withStatements(result, dir, prefix, epoch, (extra) => writeTar(dir, out(), signal, epoch, extra)));
}

/** epoch: seconds since the epoch every entry is dated with (source-date-epoch). */
function writeTar(dir: string, out: Writable, signal: AbortSignal, epoch: number | undefined, extra: Statements): Promise<void> {
  const stream = pack(dir, packOptions(dir, epoch, undefined, extra) as Parameters<typeof pack>[1]);
  return pipeline(stream, out, { signal, end: out !== process.stdout });
}

/** Statement files written for a tar: their names, and where they are on this host. */
interface Statements {
  readonly names: readonly string[];
  readonly dir?: string;
}

/** Writes result's attestation statements (0600, dated the epoch or now) to a temporary directory for fn; none: fn gets no names. */
async function withStatements<T>(result: BuildResult, dir: string, prefix: string, epoch: number | undefined, fn: (extra: Statements) => Promise<T>): Promise<T> {
  const files = await attestationFiles(result, dir, prefix);
  if (files.length === 0) return fn({ names: [] });
  const temp = await mkdtemp(join(tmpdir(), "bk-tar-statements-"));
  try {
    const when = epoch ?? Date.now() / 1000;
    for (const file of files) {
      const path = join(temp, file.name);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.data, { mode: 0o600 });
      await utimes(path, when, when);
    }
    return await fn({ names: files.map((f) => f.name), dir: temp });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * Entries in sorted order so the same tree gives the same tar; no entry for the root itself,
 * and directories named with a trailing slash, as BuildKit's tar exporter writes. Under
 * `subdir` (one platform of several), names are put under it and so are absolute symlink
 * targets, as fsutil's SubDirFS gives them to BuildKit's tar writer.
 */
function packOptions(dir: string, epoch: number | undefined, subdir?: string, extra: Statements = { names: [] }): Record<string, unknown> {
  const mtime = epoch === undefined ? undefined : new Date(epoch * 1000);
  // A statement's path under dir stands for its file in extra.dir (the result's view is read-only).
  const statements = new Map(extra.names.map((name) => [join(dir, name), join(extra.dir ?? dir, name)]));
  const at = (path: string) => statements.get(path) ?? path;
  const readlink = (path: string, done: (err: NodeJS.ErrnoException | null, target?: string) => void) =>
    fs.readlink(at(path), (err, target) => done(err, subdir !== undefined && target?.startsWith("/") ? posix.join(`/${subdir}`, target) : target));
  return {
    // Modes as they are (setgid, group/other write, a symlink's 0777): tar-fs masks them with
    // the process umask unless told not to; BuildKit's tar writer takes them from lstat.
    umask: 0,
    sort: true, // in tar-fs, not in its types
    entries: [...new Set([...readdirSync(dir), ...extra.names.map((n) => n.split("/")[0]!)])].sort(),
    map: (header: { name: string; type?: string | null; mtime?: Date }) => {
      if (header.type === "directory" && !header.name.endsWith("/")) header.name += "/";
      if (subdir !== undefined) header.name = `${subdir}/${header.name}`;
      if (mtime) header.mtime = mtime;
      return header;
    },
    ...(subdir === undefined && statements.size === 0
      ? {}
      : {
          fs: {
            ...fs,
            lstat: (path: string, done: (err: NodeJS.ErrnoException | null, st?: fs.Stats) => void) => fs.lstat(at(path), done),
            stat: (path: string, done: (err: NodeJS.ErrnoException | null, st?: fs.Stats) => void) => fs.stat(at(path), done),
            createReadStream: (path: string, opts?: Parameters<typeof fs.createReadStream>[1]) => fs.createReadStream(at(path), opts),
            readlink,
          },
        }),
  };
}

/** Several platforms in one tar: a directory entry per platform (0755), then its files under it. */
async function writePlatforms(parts: readonly PlatformResult[], open: () => Writable, signal: AbortSignal, epoch: number | undefined, prefix: string): Promise<void> {
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
      await part.result.withMounted((dir) =>
        withStatements(
          part.result,
          dir,
          prefix,
          epoch,
          (extra) =>
            new Promise<void>((resolve, reject) => {
              const failed = (err: Error) => reject(err);
              shared.once("error", failed);
              pack(dir, { ...packOptions(dir, epoch, subdir, extra), pack: shared, finalize: false, finish: () => (shared.off("error", failed), resolve()) } as Parameters<typeof pack>[1]);
            }),
        ),
      );
    }
    shared.finalize();
  } catch (err) {
    shared.destroy(err instanceof Error ? err : new Error(String(err)));
  }
  await piped;
}
