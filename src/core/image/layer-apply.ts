/**
 * Applying a layer: a (gzip, zstd or plain) tar stream extracted into a directory, streaming,
 * with the diffID (sha256 of the uncompressed tar) computed in the same pass.
 *
 * `dir` is either a snapshot directory that already holds the lower layers' view, in which
 * case whiteouts delete (the default), or an empty overlayfs upper directory, in which case
 * `overlayWhiteouts` writes them as overlayfs whiteouts (apply-whiteout.ts).
 *
 * Safety: nothing is ever written outside `dir`. Entry names are cleaned and refused if `..`
 * leaves the root; parents are resolved inside the root (entry-path.ts); the final component
 * is replaced, never followed; hardlinks must name an existing entry inside the root; device
 * nodes need `allowDevices`; PAX headers and names are bounded (tar-reader.ts).
 * Modes (with set-id bits), owners (when running as root), nanosecond times (PAX mtime/atime;
 * directories last), symlinks, hardlinks and SCHILY.xattr.* attributes are preserved.
 */
import { stat } from "node:fs/promises";
import type { Digest } from "../digest.ts";
import { BuildkitError } from "../errors.ts";
import { toFsError } from "../fs/fs-error.ts";
import { applyEntry, finishDirs } from "./apply-entry.ts";
import type { ApplyContext } from "./apply-entry.ts";
import { applyWhiteout } from "./apply-whiteout.ts";
import { decompressStream } from "./compression.ts";
import { cleanEntryName, ParentResolver, splitEntryName } from "./entry-path.ts";
import type { TarHeader } from "./tar-header.ts";
import { TarReader } from "./tar-reader.ts";
import type { TarLimits } from "./tar-reader.ts";
import { parseWhiteout } from "./whiteout.ts";

export interface ApplyOptions {
  /** The layer's media type: checked against the data's magic bytes, which decide. */
  mediaType?: string;
  signal?: AbortSignal;
  /** Create character and block devices (false for unprivileged builds: such entries fail). */
  allowDevices?: boolean;
  /** Write whiteouts as overlayfs ones (char 0/0, opaque xattr) instead of deleting. */
  overlayWhiteouts?: boolean;
  /**
   * A plain archive, not a layer (ADD's unpacking): `.wh.` names are ordinary entries and
   * nothing is deleted, as moby's Untar does.
   */
  plainArchive?: boolean;
  limits?: Partial<TarLimits>;
}

export interface ApplyResult {
  /** sha256 of the uncompressed tar. */
  diffID: Digest;
  /** Bytes of the uncompressed tar. */
  size: number;
}

const canceled = () => new BuildkitError("Canceled", "applying layer: canceled");

function entryError(name: string, err: unknown): BuildkitError {
  const inner = toFsError(err);
  return new BuildkitError(inner.code, `entry ${JSON.stringify(name)}: ${inner.message}`, { cause: err });
}

async function checkDir(dir: string): Promise<void> {
  const st = await stat(dir).catch((err: unknown) => {
    throw new BuildkitError("NotFound", `applying layer: ${dir}: ${toFsError(err).message}`, { cause: err });
  });
  if (!st.isDirectory()) throw new BuildkitError("InvalidArgument", `applying layer: ${dir}: not a directory`);
}

async function applyOne(ctx: ApplyContext, h: TarHeader, tar: TarReader, plain: boolean): Promise<void> {
  const rel = cleanEntryName(h.name);
  if (rel === "") return; // the root itself: its metadata belongs to the snapshot
  const wh = plain ? undefined : parseWhiteout(splitEntryName(rel).base);
  if (wh !== undefined) return applyWhiteout(ctx, rel, wh);
  return applyEntry(ctx, h, rel, tar.body());
}

async function extract(ctx: ApplyContext, tar: TarReader, plain: boolean): Promise<void> {
  for (let h = await tar.next(); h !== undefined; h = await tar.next()) {
    if (ctx.signal?.aborted) throw canceled();
    try {
      await applyOne(ctx, h, tar, plain);
    } catch (err) {
      throw entryError(h.name, err);
    }
  }
  await tar.finish();
  await finishDirs(ctx);
}

/** Extracts the layer in `stream` into `dir`; see the module comment. */
export async function applyLayer(stream: ReadableStream<Uint8Array>, dir: string, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const { signal } = opts;
  if (signal?.aborted) throw canceled();
  await checkDir(dir);
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  let tar: TarReader | undefined;
  const onAbort = () => void tar?.cancel(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const decompressed = await decompressStream(stream, { mediaType: opts.mediaType });
    tar = new TarReader(decompressed.stream, {
      onBytes: (chunk) => {
        hasher.update(chunk);
        size += chunk.length;
      },
      limits: opts.limits,
    });
    const ctx: ApplyContext = {
      resolver: new ParentResolver(dir),
      allowDevices: opts.allowDevices ?? false,
      overlayWhiteouts: opts.overlayWhiteouts ?? false,
      chown: process.getuid?.() === 0,
      signal,
      created: opts.overlayWhiteouts || opts.plainArchive ? undefined : new Set(),
      dirs: new Map(),
    };
    await extract(ctx, tar, opts.plainArchive ?? false);
  } catch (err) {
    await (tar ?? stream).cancel(err).catch(() => {});
    if (signal?.aborted) throw canceled();
    throw layerError(err);
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  return { diffID: `sha256:${hasher.digest("hex")}` as Digest, size };
}

function layerError(err: unknown): BuildkitError {
  const inner = toFsError(err);
  return new BuildkitError(inner.code, `applying layer: ${inner.message}`, { cause: err });
}
