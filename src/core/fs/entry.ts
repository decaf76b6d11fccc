/**
 * What file ops need to know about one directory entry (an lstat with nanosecond times),
 * and fsutil's MkdirAll: create missing directories with a mode, owner and timestamp.
 */
import { lstatSync } from "node:fs";
import type { BigIntStats } from "node:fs";
import { chmod, lstat, mkdir, stat } from "node:fs/promises";
import { posix } from "node:path";
import { BuildkitError } from "../errors.ts";
import { errnoCode } from "./fs-error.ts";
import { applyOwner } from "./owner.ts";
import type { Chowner } from "./owner.ts";
import { isInside } from "./safe-path.ts";
import { lstatFullAt } from "./statx.ts";
import { setTimes } from "./sys.ts";

export type EntryKind = "dir" | "file" | "symlink" | "special";

export interface Entry {
  kind: EntryKind;
  /** Full st_mode (type and permission bits). */
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  size: number;
  /** "dev:ino", identifying hard links. */
  inode: string;
  rdev: bigint;
  /** Allocated 512-byte blocks. */
  blocks: number;
  atimeNs: bigint;
  mtimeNs: bigint;
}

function kindOf(st: { isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }): EntryKind {
  if (st.isDirectory()) return "dir";
  if (st.isFile()) return "file";
  return st.isSymbolicLink() ? "symlink" : "special";
}

/** lstat as an Entry; undefined when the path does not exist. */
export async function lstatEntry(path: string): Promise<Entry | undefined> {
  let st;
  try {
    st = await lstat(path, { bigint: true });
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
  return toEntry(st);
}

/** {@link lstatEntrySync} of `name` in the directory open as `dirfd` (statx.ts must be available). */
export function lstatEntryAt(dirfd: number, name: string): Entry | undefined {
  const st = lstatFullAt(dirfd, name);
  if (st === undefined) return undefined;
  const type = st.mode & 0o170000;
  return {
    kind: type === 0o040000 ? "dir" : type === 0o100000 ? "file" : type === 0o120000 ? "symlink" : "special",
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    nlink: st.nlink,
    size: st.size,
    inode: `${st.dev}:${st.ino}`,
    rdev: st.rdev,
    blocks: st.blocks,
    atimeNs: st.atimeNs,
    mtimeNs: st.mtimeNs,
  };
}

/** {@link lstatEntry} as one synchronous syscall, for loops over many entries. */
export function lstatEntrySync(path: string): Entry | undefined {
  const st = lstatSync(path, { bigint: true, throwIfNoEntry: false });
  return st === undefined ? undefined : toEntry(st);
}

function toEntry(st: BigIntStats): Entry {
  return {
    kind: kindOf(st),
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    nlink: Number(st.nlink),
    size: Number(st.size),
    inode: `${st.dev}:${st.ino}`,
    rdev: st.rdev,
    blocks: Number(st.blocks),
    atimeNs: st.atimeNs,
    mtimeNs: st.mtimeNs,
  };
}

/** Sets both times to `ns` (nanoseconds since the epoch) when given. */
export async function applyTimestamp(path: string, ns: bigint | undefined): Promise<void> {
  if (ns !== undefined) await setTimes(path, ns, ns);
}

export interface MkdirAllOptions {
  /** Nothing is created outside this directory. */
  root: string;
  mode: number;
  chowner: Chowner;
  timestampNs?: bigint;
}

/** Whether `path` (following links) is a directory; throws ENOTDIR-like for a non-directory. */
async function existingDir(path: string): Promise<boolean> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) return true;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return false;
    throw err;
  }
  throw Object.assign(new Error(`mkdir ${path}: not a directory`), { code: "ENOTDIR" });
}

const S_ISGID = 0o2000;

/**
 * Gives a directory just made the mode asked for whatever the umask, keeping the setgid bit it
 * inherited from a setgid parent: BuildKit makes directories with os.Mkdir under umask 0 and
 * never chmods them, so the kernel's inheritance stands.
 */
export async function applyDirMode(dir: string, mode: number): Promise<void> {
  const st = await stat(dir);
  const want = (st.mode & S_ISGID) | mode;
  if ((st.mode & 0o7777) !== want) await chmod(dir, want);
}

/**
 * Creates `path` (a host path inside opts.root) and its missing parents, each with the mode
 * (umask ignored), owner and timestamp; returns the first directory created, if any.
 */
export async function mkdirAll(path: string, opts: MkdirAllOptions): Promise<string | undefined> {
  const missing: string[] = [];
  for (let p = posix.normalize(path); !(await existingDir(p)); p = posix.dirname(p)) {
    if (!isInside(opts.root, p) || p === "/") throw new BuildkitError("Internal", `mkdir ${path}: outside of the root`);
    missing.unshift(p);
  }
  for (const dir of missing) {
    try {
      await mkdir(dir, opts.mode);
    } catch (err) {
      if (errnoCode(err) === "EEXIST" && (await existingDir(dir))) continue;
      throw err;
    }
    await applyDirMode(dir, opts.mode);
    await applyOwner(dir, opts.chowner);
    await applyTimestamp(dir, opts.timestampNs);
  }
  return missing[0];
}
