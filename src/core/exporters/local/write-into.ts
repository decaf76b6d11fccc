/**
 * Writes a tree INTO a directory the way BuildKit's local exporter does (fsutil's DiskWriter
 * on the client): a result's directory merges with an existing one, any other entry replaces
 * the same-named one, and nothing the result does not name is removed. Each non-directory is
 * written under a temporary name beside its target and renamed over it, so an interrupted
 * export leaves every path either old or new, never half-written. Entries in dest are checked
 * with lstat and replaced, never followed: a symlink in dest cannot redirect a write.
 */
import { chmod, constants, copyFile, lchown, link, mkdir, readdir, readlink, rename, rm, symlink, unlink } from "node:fs/promises";
import { join } from "node:path";
import { lstatEntry, type Entry } from "../../fs/entry.ts";
import { makeNode, setTimes } from "../../fs/sys.ts";

const TEMP_PREFIX = ".buildkit-tmp.";

interface Walk {
  readonly signal: AbortSignal;
  /** Source inode → the dest path first written for it: hard links stay links. */
  readonly inodes: Map<string, string>;
  /** Directory times are set after their contents are written (writing changes them). */
  readonly dirTimes: { path: string; fi: Entry }[];
  readonly chown: boolean;
}

export async function writeInto(src: string, dest: string, signal: AbortSignal): Promise<void> {
  const walk: Walk = { signal, inodes: new Map(), dirTimes: [], chown: process.getuid?.() === 0 };
  const top = await lstatEntry(src);
  if (top?.kind !== "dir") throw new Error(`${src} is not a directory`);
  await mkdir(dest, { recursive: true });
  await writeChildren(src, dest, walk);
  for (const { path, fi } of walk.dirTimes.reverse()) await setTimes(path, fi.atimeNs, fi.mtimeNs);
}

async function writeChildren(src: string, dest: string, walk: Walk): Promise<void> {
  for (const name of (await readdir(src)).sort()) {
    walk.signal.throwIfAborted();
    await writeEntry(join(src, name), join(dest, name), walk);
  }
}

async function writeEntry(src: string, target: string, walk: Walk): Promise<void> {
  const fi = await lstatEntry(src);
  if (fi === undefined) return;
  const old = await lstatEntry(target);
  if (fi.kind === "dir") {
    if (old !== undefined && old.kind !== "dir") await unlink(target);
    if (old?.kind !== "dir") await mkdir(target, 0o700);
    await writeChildren(src, target, walk);
    await setInfo(target, fi, walk);
    walk.dirTimes.push({ path: target, fi });
    return;
  }
  const temp = join(target, "..", `${TEMP_PREFIX}${process.pid}.${Math.random().toString(36).slice(2)}`);
  try {
    await create(src, fi, temp, walk);
    await setInfo(temp, fi, walk);
    await setTimes(temp, fi.atimeNs, fi.mtimeNs);
    if (old?.kind === "dir") await rm(target, { recursive: true, force: true });
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  if (fi.kind === "file" && fi.nlink > 1) walk.inodes.set(fi.inode, target);
}

async function create(src: string, fi: Entry, temp: string, walk: Walk): Promise<void> {
  switch (fi.kind) {
    case "file": {
      const first = fi.nlink > 1 ? walk.inodes.get(fi.inode) : undefined;
      if (first !== undefined) return link(first, temp);
      return copyFile(src, temp, constants.COPYFILE_EXCL);
    }
    case "symlink":
      return symlink(await readlink(src), temp);
    case "special":
      return makeNode(temp, fi.mode, fi.rdev);
    case "dir":
      throw new Error(`${src}: a directory is not written through a temporary name`);
    default: {
      const never: never = fi.kind;
      throw new Error(`unknown entry kind ${String(never)}`);
    }
  }
}

/** Owner (as root, like fsutil's DiskWriter) and mode; a symlink has no mode of its own. */
async function setInfo(path: string, fi: Entry, walk: Walk): Promise<void> {
  if (walk.chown) await lchown(path, fi.uid, fi.gid);
  if (fi.kind !== "symlink") await chmod(path, fi.mode & 0o7777);
}
