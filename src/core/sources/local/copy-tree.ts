/**
 * Copies a local source's (filtered) tree into a snapshot directory. Preserves permission bits,
 * ownership (when running as root), modification times, symlinks as links (never followed, even
 * when they point outside the root) and hard links between files of the tree. File data is copied
 * by the kernel (copy_file_range, or a reflink where the filesystem can) with synchronous calls,
 * yielding to the event loop every few milliseconds. Sockets, fifos and devices are skipped and
 * counted.
 *
 * Incremental: given the previous snapshot of the same directory (its own, immutable directory)
 * and the stat records its files were copied from, a file whose record still matches is linked
 * from that snapshot instead of copied, so a one-file change writes one file. Linked inodes are
 * never modified; everything else in the new snapshot (directories, symlinks, changed files) is
 * its own.
 */
import { chmodSync, chownSync, constants, copyFileSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, promises as fsp, symlinkSync, utimesSync } from "node:fs";
import { BuildkitError, withContext } from "../../errors.ts";
import { openDirPair } from "../../fs/fd-copy.ts";
import type { DirPair, HashedCopy } from "../../fs/fd-copy.ts";
import { errnoCode } from "../../fs/fs-error.ts";
import { Pacer } from "../../fs/pacer.ts";
import type { CopyRecords } from "./copy-records.ts";
import { resolveLocalRoot, walkTreeRecords } from "./walk.ts";
import type { Entry, WalkOptions } from "./walk.ts";
import { changedRecords, WalkRecords } from "./walk-records.ts";
import { copyXattrs } from "../../fs/sys.ts";

export interface PreviousCopy {
  /** The previous snapshot's directory (immutable: its files are linked, never changed). */
  readonly dir: string;
  /** The walk its files were copied from, and which of them may be linked. */
  readonly records: CopyRecords;
}

export interface CopyOptions extends WalkOptions {
  /** The source's name, for error messages. */
  readonly name?: string;
  /** The walk already done (by the checksum); walked here when absent. */
  readonly walked?: WalkRecords;
  readonly previous?: PreviousCopy;
  /**
   * Read copied files through a buffer and hash them (sha256) on the way: CopyResult.hashes.
   * For a checksum that would otherwise read every file again (checksum.ts's `prehash`).
   */
  readonly hash?: boolean;
}

export interface CopyResult {
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  /** Files made as hard links to an earlier copy instead of being copied again. */
  readonly hardlinks: number;
  /** Files linked from the previous snapshot. */
  readonly reused: number;
  /** Entries that are neither files, directories nor symlinks. */
  readonly skipped: number;
  /** Bytes of file data copied. */
  readonly bytes: number;
  /**
   * Allocated bytes of what the copy made under dest (dest itself not included), each inode
   * once, as a disk-usage walk would count them: directories as made, files and symlinks as
   * their sources are allocated (a copy takes the blocks its source takes).
   */
  readonly allocated: number;
  /** What the copy's files were made from: the next copy's `previous.records`. */
  readonly records: CopyRecords;
  /** With `hash`: the content digest of each file copied through the buffer, by path. */
  readonly hashes?: ReadonlyMap<string, HashedCopy>;
}

/** A file changed this close to the copy may change again within its timestamp tick. */
const RACY_NS = 20_000_000n;

/** Copies the filtered tree at `root` into `dest`, an existing (empty) directory. */
export async function copyTree(root: string, dest: string, opts: CopyOptions = {}): Promise<CopyResult> {
  const realRoot = await resolveLocalRoot(root, opts.name ?? root);
  const target = await fsp.stat(dest).catch(() => undefined);
  if (!target?.isDirectory()) {
    throw new BuildkitError("FailedPrecondition", `copying local source ${opts.name ?? root}: destination ${dest} is not a directory`);
  }
  const walked = opts.walked ?? (await walkTreeRecords(realRoot, opts));
  const entries = walked.entries();
  const previous = opts.previous && { dir: opts.previous.dir, reusable: reusableFrom(opts.previous.records, walked) };
  const copier = new TreeCopier(realRoot, dest, previous, opts.hash ?? false, entries.length);
  const pacer = new Pacer(`copying ${realRoot}`, opts.signal);
  try {
    for (let k = 0; k < entries.length; k++) {
      copier.add(entries[k] as Entry, k);
      const paused = pacer.tick();
      if (paused) await paused;
    }
  } finally {
    copier.closeDirs();
  }
  copier.finishDirs();
  const raw = walked.raw();
  return copier.result({ walk: raw.bytes, ends: Uint32Array.from(raw.ends) });
}

/** Whether entry `k` (now) is a file the previous copy has as it is now, so it may be linked. */
type Reusable = (k: number, entry: Entry) => boolean;

function reusableFrom(records: CopyRecords, walked: WalkRecords): Reusable {
  const before = { bytes: records.walk, ends: records.ends };
  // The same entries in the same order (the usual case): by index, only the changed ones differ.
  const changed = changedRecords(walked.raw(), before);
  if (changed !== undefined) {
    const moved = new Set(changed);
    return (k) => records.reusable[k] === 1 && !moved.has(k);
  }
  // Entries added, removed or renamed since (or other filters): by path.
  const known = new Map<string, Entry>();
  WalkRecords.fromRaw(before)
    .entries()
    .forEach((entry, k) => {
      if (records.reusable[k] === 1) known.set(entry.path, entry);
    });
  return (_k, entry) => {
    const was = known.get(entry.path);
    return was !== undefined && unchanged(was, entry);
  };
}

/** The directory part of a walk path ("" at the top). */
function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

/** The last component of a walk path. */
function baseOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

class TreeCopier {
  readonly #root: string;
  readonly #dest: string;
  readonly #previous: { readonly dir: string; readonly reusable: Reusable } | undefined;
  readonly #asRoot = process.getuid?.() === 0;
  readonly #euid = process.geteuid?.() ?? -1;
  readonly #egid = process.getegid?.() ?? -1;
  /** dest has the set-gid bit: what is made below takes its group, not ours. */
  readonly #setgidDest: boolean;
  readonly #racyAfter = BigInt(Date.now()) * 1_000_000n - RACY_NS;
  /** Directories whose metadata is set last: adding children changes their mtime. */
  readonly #dirs: Entry[] = [];
  /** First copy of each multiply-linked inode: its destination. */
  readonly #links = new Map<string, string>();
  /** Per entry: 1 when its file here is exactly what its walked facts describe. */
  readonly #reusable: Uint8Array;
  /** Digests of files copied through a buffer (with `hash`), by path, and by inode for links. */
  readonly #hashes: Map<string, HashedCopy> | undefined;
  readonly #inodeHashes = new Map<string, HashedCopy>();
  #linkPrevious: boolean;
  #files = 0;
  #symlinks = 0;
  #hardlinks = 0;
  #reused = 0;
  #skipped = 0;
  #bytes = 0;
  #allocated = 0;
  /** The source and target directories of the files being copied, held open (fd-copy.ts). */
  #pair: { dir: string; pair: DirPair | undefined } | undefined;
  /** The previous snapshot's and the target directory, for links; `missing`: no such directory there. */
  #prevPair: { dir: string; pair: DirPair | undefined; missing: boolean } | undefined;

  constructor(root: string, dest: string, previous: { readonly dir: string; readonly reusable: Reusable } | undefined, hash: boolean, count: number) {
    this.#reusable = new Uint8Array(count);
    this.#hashes = hash ? new Map() : undefined;
    this.#root = root;
    this.#dest = dest;
    this.#previous = previous;
    this.#linkPrevious = previous !== undefined;
    this.#setgidDest = (lstatSync(dest).mode & 0o2000) !== 0;
  }

  /** Adds entry `k` of the walk. */
  add(entry: Entry, k: number): void {
    const dst = `${this.#dest}/${entry.path}`;
    try {
      switch (entry.type) {
        case "dir":
          mkdirSync(dst, { mode: 0o700 });
          this.#dirs.push(entry);
          return;
        case "file":
          return this.#addFile(entry, dst, k);
        case "symlink":
          return this.#symlink(entry, dst);
        case "other":
          this.#skipped++;
          return;
        default: {
          const never: never = entry.type;
          throw new Error(`unknown entry type ${String(never)}`);
        }
      }
    } catch (err) {
      if (err instanceof BuildkitError) throw err;
      throw withContext(`copying local source to ${dst}`, err);
    }
  }

  closeDirs(): void {
    this.#pair?.pair?.close();
    this.#prevPair?.pair?.close();
    this.#pair = this.#prevPair = undefined;
  }

  /** The open source/target pair for the directory `dir` (undefined: no fd calls here). */
  #pairFor(dir: string): DirPair | undefined {
    if (this.#pair?.dir !== dir) {
      this.#pair?.pair?.close();
      this.#pair = undefined; // (left unset if the open throws)
      const sub = dir === "" ? "" : `/${dir}`;
      this.#pair = { dir, pair: openDirPair(`${this.#root}${sub}`, `${this.#dest}${sub}`) };
    }
    return this.#pair.pair;
  }

  /** The open previous-snapshot/target pair for `dir` (pair undefined: no fd calls here). */
  #prevPairFor(dir: string): { pair: DirPair | undefined; missing: boolean } {
    if (this.#prevPair?.dir !== dir) {
      this.#prevPair?.pair?.close();
      this.#prevPair = undefined;
      const sub = dir === "" ? "" : `/${dir}`;
      let pair: DirPair | undefined;
      let missing = false;
      try {
        pair = openDirPair(`${this.#previous?.dir}${sub}`, `${this.#dest}${sub}`);
      } catch (err) {
        if (errnoCode(err) !== "ENOENT" && errnoCode(err) !== "ENOTDIR" && errnoCode(err) !== "ELOOP") throw err;
        missing = true;
      }
      this.#prevPair = { dir, pair, missing };
    }
    return this.#prevPair;
  }

  /** Sets directory metadata deepest first, once nothing more is written into them. */
  finishDirs(): void {
    for (const entry of this.#dirs.toReversed()) {
      const dst = `${this.#dest}/${entry.path}`;
      try {
        this.#setMetadata(entry, dst);
        this.#allocated += Number(lstatSync(dst, { bigint: true }).blocks) * 512;
      } catch (err) {
        throw withContext(`copying local source to ${dst}`, err);
      }
    }
  }

  result(walk: Omit<CopyRecords, "reusable">): CopyResult {
    return {
      files: this.#files, dirs: this.#dirs.length, symlinks: this.#symlinks, hardlinks: this.#hardlinks,
      reused: this.#reused, skipped: this.#skipped, bytes: this.#bytes, allocated: this.#allocated, records: { ...walk, reusable: this.#reusable },
      ...(this.#hashes ? { hashes: this.#hashes } : {}),
    };
  }

  #addFile(entry: Entry, dst: string, k: number): void {
    // (only a file with other names has its inode looked up: two BigInts to text per file)
    const key = entry.nlink > 1 ? `${entry.dev}:${entry.ino}` : "";
    const first = entry.nlink > 1 ? this.#links.get(key) : undefined;
    if (first !== undefined) {
      this.#hardlinks++;
      linkSync(first, dst);
      const hashed = this.#inodeHashes.get(key);
      if (hashed !== undefined) this.#hashes?.set(entry.path, hashed);
      return;
    }
    if (entry.nlink > 1) this.#links.set(key, dst);
    this.#allocated += entry.blocks * 512;
    if (this.#reuse(entry, dst, k)) return;
    this.#files++;
    this.#bytes += entry.size;
    const src = `${this.#root}/${entry.path}`;
    try {
      const pair = this.#pairFor(parentOf(entry.path));
      if (pair) {
        // Never through a symlink on either side; the owner only as root (as chown below), and
        // only when it is not ours: a new file here is ours unless dest is set-gid (directories
        // made here inherit that; their own modes are set last, in finishDirs).
        const owner = this.#asRoot && (this.#setgidDest || entry.uid !== this.#euid || entry.gid !== this.#egid) ? { uid: entry.uid, gid: entry.gid } : {};
        const meta = { size: entry.size, mode: entry.mode, timeNs: entry.mtimeNs, ...owner };
        if (this.#hashes === undefined) pair.copyFile(baseOf(entry.path), meta);
        else {
          const hashed = pair.copyFileHashed(baseOf(entry.path), meta, entry);
          this.#hashes.set(entry.path, hashed);
          if (entry.nlink > 1) this.#inodeHashes.set(key, hashed);
        }
        this.#copyXattrs(entry, dst);
      } else {
        // EXCL: never write through whatever might already be at dst; FICLONE: reflink if possible.
        copyFileSync(src, dst, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
        this.#setMetadata(entry, dst);
      }
    } catch (err) {
      throw withContext(`copying ${src} to ${dst}`, err);
    }
    const changedAt = entry.ctimeNs > entry.mtimeNs ? entry.ctimeNs : entry.mtimeNs;
    if (changedAt < this.#racyAfter) this.#reusable[k] = 1;
  }

  /** Links the previous snapshot's copy when the source file is unchanged since it was made. */
  #reuse(entry: Entry, dst: string, k: number): boolean {
    if (!this.#linkPrevious || !this.#previous?.reusable(k, entry)) return false;
    const failed = this.#linkFromPrevious(entry.path, dst);
    if (failed !== undefined) {
      // Another file system (or a mount in between): copy from now on.
      if (failed === "EXDEV" || failed === "EPERM") this.#linkPrevious = false;
      else if (failed !== "ENOENT" && failed !== "EMLINK") throw Object.assign(new Error(`linking ${entry.path} from the previous copy: ${failed}`), { code: failed });
      return false;
    }
    this.#reused++;
    this.#reusable[k] = 1;
    return true;
  }

  /** Links the previous snapshot's file at path as dst; the errno name when that fails. */
  #linkFromPrevious(path: string, dst: string): string | undefined {
    const { pair, missing } = this.#prevPairFor(parentOf(path));
    if (missing) return "ENOENT"; // the previous copy has no such directory
    if (pair) return pair.link(baseOf(path));
    try {
      linkSync(`${this.#previous?.dir}/${path}`, dst);
      return undefined;
    } catch (err) {
      return errnoCode(err) ?? "EIO";
    }
  }

  #symlink(entry: Entry, dst: string): void {
    symlinkSync(entry.linkTarget ?? "", dst);
    this.#symlinks++;
    this.#allocated += entry.blocks * 512;
    if (this.#asRoot) lchownSync(dst, entry.uid, entry.gid);
    const seconds = toSeconds(entry.mtimeNs);
    lutimesSync(dst, seconds, seconds);
  }

  /**
   * Owner first: chown clears set-uid and set-gid bits, which chmod then restores, and the
   * security.capability xattr, which is set after it.
   */
  #setMetadata(entry: Entry, dst: string): void {
    if (this.#asRoot) chownSync(dst, entry.uid, entry.gid);
    this.#copyXattrs(entry, dst);
    chmodSync(dst, entry.mode & 0o7777);
    const seconds = toSeconds(entry.mtimeNs);
    utimesSync(dst, seconds, seconds);
  }

  /**
   * The source's xattrs onto the copy (never through a symlink: l*xattr calls), as BuildKit's file
   * receiver sets those the client sent (its content checksum includes them); one that cannot be
   * set (trusted.* without root, a file system without them) is left out, as BuildKit ignores
   * those errors too.
   */
  #copyXattrs(entry: Entry, dst: string): void {
    copyXattrs(`${this.#root}/${entry.path}`, dst);
  }
}

/** Same file, same content, same metadata as when the previous copy was made. */
function unchanged(r: Entry, e: Entry): boolean {
  return r.size === e.size && r.mtimeNs === e.mtimeNs && r.ctimeNs === e.ctimeNs && r.ino === e.ino && r.dev === e.dev && r.mode === e.mode && r.uid === e.uid && r.gid === e.gid;
}

/** Seconds as a double: Node's utimes takes no nanoseconds; precision is about 0.1 µs. */
function toSeconds(ns: bigint): number {
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}
