/**
 * Writes a tree INTO a directory the way BuildKit's local exporter does (fsutil's DiskWriter
 * on the client): a result's directory merges with an existing one, any other entry replaces
 * the same-named one, and nothing the result does not name is removed. Each non-directory is
 * written under a temporary name beside its target and renamed over it, so an interrupted
 * export leaves every path either old or new, never half-written. Entries in dest are checked
 * with lstat and replaced, never followed: a symlink in dest cannot redirect a write.
 *
 * Synchronous calls, paced (fs/pacer.ts), as the other tree copies: files go through the
 * directory pair held open (fs/fd-copy.ts: data, owner, mode and times on the new file's
 * descriptor).
 */
import { chmodSync, constants, copyFileSync, lchownSync, linkSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { posix } from "node:path";
import { lstatEntrySync, type Entry } from "../../fs/entry.ts";
import { openDirPair, type DirPair } from "../../fs/fd-copy.ts";
import { errnoCode } from "../../fs/fs-error.ts";
import { Pacer } from "../../fs/pacer.ts";
import { makeNode, setTimesSync } from "../../fs/sys.ts";

const TEMP_PREFIX = ".buildkit-tmp.";

interface Walk {
  readonly pacer: Pacer;
  /** Source inode → the dest path first written for it: hard links stay links. */
  readonly inodes: Map<string, string>;
  /** Directory times are set after their contents are written (writing changes them). */
  readonly dirTimes: { path: string; fi: Entry }[];
  readonly chown: boolean;
  /** source-date-epoch in nanoseconds: every entry's access and modification time. */
  readonly epochNs: bigint | undefined;
  /** Put in front of absolute symlink targets (WriteIntoOptions.subdir). */
  readonly linkPrefix: string;
}

export interface WriteIntoOptions {
  /** Seconds since the epoch to date every entry with (BuildKit's source-date-epoch); else the source's times. */
  readonly epoch?: number;
  /**
   * dest is DIR/subdir, one platform's directory of a multi-platform export: absolute symlink
   * targets get "/subdir" in front, as the files BuildKit sends through fsutil's SubDirFS do.
   */
  readonly subdir?: string;
}

export async function writeInto(src: string, dest: string, signal: AbortSignal, opts: WriteIntoOptions = {}): Promise<void> {
  const epochNs = opts.epoch === undefined ? undefined : BigInt(opts.epoch) * 1_000_000_000n;
  const linkPrefix = opts.subdir === undefined ? "" : `/${opts.subdir}`;
  const walk: Walk = { pacer: new Pacer(`exporting to ${dest}`, signal), inodes: new Map(), dirTimes: [], chown: process.getuid?.() === 0, epochNs, linkPrefix };
  const top = lstatEntrySync(src);
  if (top?.kind !== "dir") throw new Error(`${src} is not a directory`);
  mkdirSync(dest, { recursive: true });
  signal.throwIfAborted();
  await writeChildren(src, dest, walk);
  for (const { path, fi } of walk.dirTimes.reverse()) setTimesSync(path, ...timesOf(fi, walk));
}

/** [atime, mtime] to give an entry: its own, or both the epoch (fsutil's Chtimes of ModTime). */
function timesOf(fi: Entry, walk: Walk): [bigint, bigint] {
  return walk.epochNs === undefined ? [fi.atimeNs, fi.mtimeNs] : [walk.epochNs, walk.epochNs];
}

async function writeChildren(src: string, dest: string, walk: Walk): Promise<void> {
  /** null: not to be tried here (no libc, or dest itself is a symlink to a directory). */
  let pair: DirPair | undefined | null;
  try {
    for (const name of readdirSync(src).sort()) {
      const paused = walk.pacer.tick();
      if (paused) await paused;
      const fi = lstatEntrySync(`${src}/${name}`);
      if (fi === undefined) continue;
      if (fi.kind === "file" && !(fi.nlink > 1 && walk.inodes.has(fi.inode))) pair ??= openPair(src, dest);
      await writeEntry(`${src}/${name}`, `${dest}/${name}`, fi, walk, pair ? { pair, name } : undefined);
    }
  } finally {
    pair?.close();
  }
}

/** The pair for files of src written into dest; null where path calls must do. */
function openPair(src: string, dest: string): DirPair | null {
  try {
    return openDirPair(src, dest) ?? null;
  } catch (err) {
    // The top dest may be a symlink to a directory (followed by path calls, as always).
    if (errnoCode(err) === "ELOOP" || errnoCode(err) === "ENOTDIR") return null;
    throw err;
  }
}

async function writeEntry(src: string, target: string, fi: Entry, walk: Walk, at: { pair: DirPair; name: string } | undefined): Promise<void> {
  const old = lstatEntrySync(target);
  if (fi.kind === "dir") {
    if (old !== undefined && old.kind !== "dir") unlinkSync(target);
    if (old?.kind !== "dir") mkdirSync(target, 0o700);
    await writeChildren(src, target, walk);
    setInfo(target, fi, walk);
    walk.dirTimes.push({ path: target, fi });
    return;
  }
  const tempName = `${TEMP_PREFIX}${process.pid}.${Math.random().toString(36).slice(2)}`;
  const temp = `${target.slice(0, target.lastIndexOf("/"))}/${tempName}`;
  try {
    const first = fi.kind === "file" && fi.nlink > 1 ? walk.inodes.get(fi.inode) : undefined;
    if (fi.kind === "file" && first === undefined && at !== undefined) {
      // Owner (as root, like fsutil's DiskWriter), mode and times in one go.
      const owner = walk.chown ? { uid: fi.uid, gid: fi.gid } : {};
      const [atimeNs, timeNs] = timesOf(fi, walk);
      at.pair.copyFile(at.name, { size: fi.size, mode: fi.mode, timeNs, atimeNs, ...owner }, tempName);
    } else {
      create(src, fi, temp, first, walk);
      setInfo(temp, fi, walk);
      setTimesSync(temp, ...timesOf(fi, walk));
    }
    if (old?.kind === "dir") rmSync(target, { recursive: true, force: true });
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  if (fi.kind === "file" && fi.nlink > 1) walk.inodes.set(fi.inode, target);
}

/** Makes `temp` from src (a file by path, or a link to the first copy of its inode). */
function create(src: string, fi: Entry, temp: string, first: string | undefined, walk: Walk): void {
  switch (fi.kind) {
    case "file":
      if (first !== undefined) linkSync(first, temp);
      else copyFileSync(src, temp, constants.COPYFILE_EXCL);
      return;
    case "symlink":
      symlinkSync(linkTarget(readlinkSync(src), walk), temp);
      return;
    case "special":
      makeNode(temp, fi.mode, fi.rdev);
      return;
    case "dir":
      throw new Error(`${src}: a directory is not written through a temporary name`);
    default: {
      const never: never = fi.kind;
      throw new Error(`unknown entry kind ${String(never)}`);
    }
  }
}

/** Owner (as root, like fsutil's DiskWriter) and mode; a symlink has no mode of its own. */
function setInfo(path: string, fi: Entry, walk: Walk): void {
  if (walk.chown) lchownSync(path, fi.uid, fi.gid);
  if (fi.kind !== "symlink") chmodSync(path, fi.mode & 0o7777);
}

function linkTarget(target: string, walk: Walk): string {
  return walk.linkPrefix && target.startsWith("/") ? posix.join(walk.linkPrefix, target) : target;
}
