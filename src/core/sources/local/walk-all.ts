/**
 * walk.ts's walk without filters, straight into records (walk-records.ts): the path of an
 * unchanged tree, where the walk is most of a cached build's time. Same entries, order and
 * records as walk.ts's Walker (the records test compares the two), with less work per entry.
 *
 * Per directory, its sorted names are encoded once, NUL-terminated one after the other, and
 * each entry's statx is given a pointer into that buffer: no encoding, path string or
 * verdict per entry. Directories are opened relative to their parent's fd, never following a
 * symlink.
 */
import { ptr } from "bun:ffi";
import { readdirSync, readlinkSync } from "node:fs";
import { BuildkitError, withContext } from "../../errors.ts";
import type { Pacer } from "../../fs/pacer.ts";
import { closeDirectory, openDirectory, openDirectoryAt, statxAt, statxWords } from "../../fs/statx.ts";
import { errnoError, errnoName } from "../../sys/libc.ts";
import { compareNames, isErrno, S_IFDIR, S_IFLNK, S_IFMT } from "./walk.ts";
import type { WalkRecords } from "./walk-records.ts";

const encoder = new TextEncoder();

/** A directory being walked. */
interface Frame {
  /** Relative to the root, "" for the root. */
  readonly dir: string;
  readonly names: readonly string[];
  /** The names, UTF-8, each followed by a NUL, in `names` order. */
  readonly bytes: Uint8Array;
  /** Where `bytes` is, for statx. */
  readonly base: number;
  /** Every name is ASCII: its byte length is its length. */
  readonly ascii: boolean;
  readonly fd: number;
  next: number;
  /** Byte offset of names[next] in `bytes`. */
  at: number;
}

/** Adds every entry under `root` (a real directory path) to `records`, in walk order. */
export async function walkAllRecords(root: string, records: WalkRecords, pacer: Pacer): Promise<void> {
  const stack: Frame[] = [];
  try {
    const names = listDir(root, root, true);
    if (names.length > 0) stack.push(frame("", names, openRoot(root)));
    for (let n = 1; stack.length > 0; n++) {
      if ((n & 63) === 0) {
        const paused = pacer.tick(); // a step is microseconds: look at the clock now and then
        if (paused) await paused;
      }
      const top = stack[stack.length - 1]!;
      if (top.next === top.names.length) {
        stack.pop();
        closeDirectory(top.fd);
        continue;
      }
      const name = top.names[top.next++]!;
      const at = top.at;
      const length = top.ascii ? name.length : Buffer.byteLength(name);
      top.at = at + length + 1;
      const errno = statxAt(top.fd, top.base + at);
      if (errno !== 0) {
        if (gone(errno)) continue; // removed since readdir
        throw withContext(`reading ${root}/${join(top.dir, name)}`, errnoError(`lstat ${name}`, errno));
      }
      const type = statxWords[7]! & S_IFMT;
      let linkTarget: string | undefined;
      if (type === S_IFLNK) {
        linkTarget = readLink(root, join(top.dir, name));
        if (linkTarget === undefined) continue;
      }
      records.addStatx(stack.length, name, top.bytes, at, length, statxWords, linkTarget);
      if (type === S_IFDIR) {
        pacer.check();
        const dir = join(top.dir, name);
        const inside = listDir(root, `${root}/${dir}`, false);
        if (inside.length === 0) continue;
        const fd = openDirectoryAt(top.fd, top.base + at);
        if (fd >= 0) stack.push(frame(dir, inside, fd));
        else if (!gone(-fd) && errnoName(-fd) !== "ELOOP") throw withContext(`opening directory ${root}/${dir}`, errnoError("open", -fd));
        // else replaced since its statx: nothing of it to walk
      }
    }
  } finally {
    for (const f of stack.splice(0)) closeDirectory(f.fd);
  }
}

/**
 * A directory's frame from its names in the engine's order (listDir), put in byte-wise order
 * here: the two differ only when a name has a surrogate pair, which one test of the names
 * encoded at once finds (no loop over every name's chars).
 */
function frame(dir: string, names: string[], fd: number): Frame {
  let joined = `${names.join("\0")}\0`;
  let bytes = encoder.encode(joined);
  const ascii = bytes.length === joined.length;
  if (!ascii && SURROGATE.test(joined)) {
    names.sort(compareNames);
    joined = `${names.join("\0")}\0`;
    bytes = encoder.encode(joined);
  }
  return { dir, names, bytes, base: ptr(bytes), ascii, fd, next: 0, at: 0 };
}

const SURROGATE = /[\uD800-\uDFFF]/;

function join(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/** ENOENT or ENOTDIR: the entry went away (or its directory was replaced) since it was listed. */
function gone(errno: number): boolean {
  const code = errnoName(errno);
  return code === "ENOENT" || code === "ENOTDIR";
}

/** A directory's names, sorted as strings; none when it went away, unless it is the root. */
function listDir(root: string, abs: string, isRoot: boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(abs);
  } catch (err) {
    if (!isErrno(err, "ENOENT", "ENOTDIR")) throw withContext(`reading directory ${abs}`, err);
    if (isRoot) throw new BuildkitError("NotFound", `walking ${root}: not a directory`, { cause: err });
    return [];
  }
  return names.sort(); // UTF-16 order: frame() makes it byte-wise where that differs
}

function openRoot(root: string): number {
  try {
    return openDirectory(root);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR", "ELOOP")) throw new BuildkitError("NotFound", `walking ${root}: not a directory`, { cause: err });
    throw withContext(`opening directory ${root}`, err);
  }
}

/** A symlink's target; undefined when it is no longer a symlink (or gone). */
function readLink(root: string, path: string): string | undefined {
  try {
    return readlinkSync(`${root}/${path}`);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR", "EINVAL")) return undefined;
    throw withContext(`reading ${root}/${path}`, err);
  }
}
