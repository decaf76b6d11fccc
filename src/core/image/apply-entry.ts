/**
 * Creating one tar entry on disk: its node (streamed file contents, symlink, hardlink, device,
 * FIFO, directory), then owner, xattrs, mode and times. Directory modes and times are
 * deferred to the end of the layer, since writing children changes a directory's mtime.
 * Whiteouts are in apply-whiteout.ts.
 *
 * The per-entry calls (lstat, symlink, mkdir, lchown, chmod, utimensat) are synchronous: each
 * takes microseconds, while the promise form sends every one through Bun's thread pool and
 * back (a futex wake, an eventfd write, a turn of the event loop), which cost more than the
 * syscall itself — a layer of a few hundred entries made ~1,100 such round trips. The loop
 * still yields at every tar header (tar-reader.ts awaits its stream), so cancellation and
 * other work on this thread are not held up for longer than one entry. Only recursive
 * removal (rare: an entry replacing a directory) stays asynchronous.
 */
import { chmodSync, closeSync, constants, lchownSync, linkSync, lstatSync, mkdirSync, openSync, symlinkSync, writeSync } from "node:fs";
import { rm } from "node:fs/promises";
import type { Stats } from "node:fs";
import { BuildkitError } from "../errors.ts";
import { errnoCode } from "../fs/fs-error.ts";
import { makeDev, makeNode, setTimesSync, setXattr } from "../fs/sys.ts";
import { cleanEntryName, splitEntryName } from "./entry-path.ts";
import type { ParentResolver } from "./entry-path.ts";
import type { TarHeader } from "./tar-header.ts";

export interface DeferredDir {
  mode: number;
  atimeNs: bigint;
  mtimeNs: bigint;
}

export interface ApplyContext {
  readonly resolver: ParentResolver;
  readonly allowDevices: boolean;
  readonly overlayWhiteouts: boolean;
  /** chown entries (only root may give files away). */
  readonly chown: boolean;
  readonly signal: AbortSignal | undefined;
  /** Host paths this layer made and their ancestors; kept for opaque dirs when deleting. */
  readonly created: Set<string> | undefined;
  /** Directory metadata applied by {@link finishDirs}, by host path (last declaration wins). */
  readonly dirs: Map<string, DeferredDir>;
}

const FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** lstat, or undefined where nothing is (ENOENT; other errors, ENOTDIR included, throw). */
export function lstatOrUndefined(host: string): Stats | undefined {
  return lstatSync(host, { throwIfNoEntry: false });
}

function invalid(cause: string): BuildkitError {
  return new BuildkitError("InvalidArgument", cause);
}

/** Records `host` and its ancestors as made by this layer. */
export function markCreated(ctx: ApplyContext, host: string): void {
  const created = ctx.created;
  if (created === undefined) return;
  created.add(host);
  const root = ctx.resolver.root;
  for (let p = host.slice(0, host.lastIndexOf("/")); p.length > root.length && !created.has(p); p = p.slice(0, p.lastIndexOf("/"))) {
    created.add(p);
  }
}

/** Removes a path and everything below it, forgetting what was cached or deferred about it. */
export async function removePath(ctx: ApplyContext, host: string): Promise<void> {
  await rm(host, { recursive: true, force: true });
  ctx.resolver.invalidate();
  const below = `${host}/`;
  for (const key of ctx.dirs.keys()) if (key === host || key.startsWith(below)) ctx.dirs.delete(key);
}

/** The existing, non-directory host path a hardlink points at. */
async function hardlinkTarget(ctx: ApplyContext, linkname: string): Promise<string> {
  const rel = cleanEntryName(linkname, `hardlink target ${JSON.stringify(linkname)}`);
  if (rel === "") throw invalid(`hardlink target ${JSON.stringify(linkname)} is the layer root`);
  const target = await ctx.resolver.resolve(rel);
  const st = lstatOrUndefined(target);
  if (st === undefined) throw invalid(`hardlink target ${JSON.stringify(linkname)} does not exist`);
  if (st.isDirectory()) throw invalid(`hardlink target ${JSON.stringify(linkname)} is a directory`);
  return target;
}

/** Streams the entry's data into a new file that must not exist (and is never a symlink). */
async function writeFile(ctx: ApplyContext, host: string, body: AsyncIterable<Uint8Array>): Promise<void> {
  const fd = openSync(host, FILE_FLAGS, 0o600);
  try {
    for await (const chunk of body) {
      if (ctx.signal?.aborted) throw new BuildkitError("Canceled", "canceled");
      for (let pos = 0; pos < chunk.length; ) pos += writeSync(fd, chunk, pos, chunk.length - pos);
    }
  } finally {
    closeSync(fd);
  }
}

/** Creates the node itself; `body` is read for regular files only. */
async function createNode(ctx: ApplyContext, h: TarHeader, host: string, isDir: boolean, body: AsyncIterable<Uint8Array>): Promise<void> {
  switch (h.type) {
    case "dir":
      if (!isDir) mkdirSync(host, 0o700);
      return;
    case "file":
      return writeFile(ctx, host, body);
    case "symlink":
      return symlinkSync(h.linkname, host);
    case "char":
    case "block": {
      const kind = h.type === "char" ? constants.S_IFCHR : constants.S_IFBLK;
      return makeNode(host, kind | h.mode, makeDev(h.devmajor, h.devminor));
    }
    case "fifo":
      return makeNode(host, constants.S_IFIFO | h.mode, 0n);
    case "hardlink":
      throw new BuildkitError("Internal", "hardlinks are created by applyEntry");
    default: {
      const never: never = h.type;
      throw new BuildkitError("Internal", `unknown entry type ${String(never)}`);
    }
  }
}

/** Sets xattrs; those the file system or our privileges do not allow are skipped, as containerd does. */
function setXattrs(host: string, xattrs: TarHeader["xattrs"]): void {
  for (const [name, value] of xattrs) {
    try {
      setXattr(host, name, value);
    } catch (err) {
      const code = errnoCode(err);
      if (code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "EPERM") throw err;
    }
  }
}

function setMetadata(ctx: ApplyContext, h: TarHeader, host: string): void {
  if (ctx.chown) lchownSync(host, h.uid, h.gid);
  setXattrs(host, h.xattrs);
  const atimeNs = h.atimeNs ?? h.mtimeNs;
  if (h.type === "dir") {
    ctx.dirs.set(host, { mode: h.mode, atimeNs, mtimeNs: h.mtimeNs });
    return;
  }
  if (h.type !== "symlink") chmodSync(host, h.mode);
  setTimesSync(host, atimeNs, h.mtimeNs);
}

/** Creates a (non-whiteout) entry at the cleaned path `rel`, replacing what is there unless both are directories. */
export async function applyEntry(ctx: ApplyContext, h: TarHeader, rel: string, body: AsyncIterable<Uint8Array>): Promise<void> {
  if ((h.type === "char" || h.type === "block") && !ctx.allowDevices) throw invalid("device nodes are not allowed");
  const { parent, base } = splitEntryName(rel);
  const dir = await ctx.resolver.ensure(parent);
  const host = `${dir === "/" ? "" : dir}/${base}`;
  const target = h.type === "hardlink" ? await hardlinkTarget(ctx, h.linkname) : undefined;
  const existing = lstatOrUndefined(host);
  const isDir = existing?.isDirectory() === true;
  if (existing !== undefined && !(isDir && h.type === "dir")) {
    if (target === host) return; // a hardlink to itself: already there
    await removePath(ctx, host);
  }
  markCreated(ctx, host);
  if (target !== undefined) return linkSync(target, host); // shares the target's inode and metadata
  await createNode(ctx, h, host, isDir, body);
  setMetadata(ctx, h, host);
}

/** Applies deferred directory modes and times. */
export async function finishDirs(ctx: ApplyContext): Promise<void> {
  for (const [host, d] of [...ctx.dirs].reverse()) {
    chmodSync(host, d.mode);
    setTimesSync(host, d.atimeNs, d.mtimeNs);
  }
}
