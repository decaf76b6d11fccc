/**
 * The content digest of a local source's (filtered) tree: the cache key of `local://NAME`.
 *
 * For each entry in walk order, one record: path, st_mode (permission and type bits), uid, gid,
 * link target and, for a regular file, the sha256 of its content. The tree digest is the sha256
 * of a version line followed by the records. Modification times are not in it: a touched but
 * identical tree has the same digest. They are part of the stat cache's validity check (with
 * ctime, size, inode, device and mode), so an unchanged file is not read again; a changed one is
 * streamed through the hasher.
 *
 * Unchanged trees skip even that: the walk's stat facts are hashed into a stamp, saved with the
 * tree digest after a run in which every file's content was known for its stat (none racy, none
 * changing while read). The next walk with the same stamp (same root, same filters) has the same
 * digest without loading a record.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import type { Digest } from "../../digest.ts";
import { withContext } from "../../errors.ts";
import { Pacer } from "../../fs/pacer.ts";
import type { StatCache, StatRecord } from "./stat-cache.ts";
import { encodeTreeRecords } from "./tree-records.ts";
import type { TreeRecords } from "./tree-records.ts";
import { changedRecords, recordFileSize } from "./walk-records.ts";
import type { WalkRecords } from "./walk-records.ts";
import { resolveLocalRoot, S_IFMT, walkTreeRecords } from "./walk.ts";
import type { Entry, WalkOptions } from "./walk.ts";

export interface ChecksumOptions extends WalkOptions {
  readonly cache: StatCache;
  /** The source's name, for error messages. */
  readonly name?: string;
  /** Receives the walk (its entries are made when first asked for), for a copy that follows. */
  readonly walked?: (records: WalkRecords) => void;
  /**
   * Called with the walk when the tree stamp does not vouch for the digest, before any file is
   * read: contents it already hashed (a copy hashing while it reads, copy-tree.ts's `hash`), by
   * path. Files it leaves out are read here.
   */
  readonly prehash?: (records: WalkRecords) => Promise<ReadonlyMap<string, FileHash>>;
}

/** A file's content digest as read once: `stable` when its size, ctime and inode held throughout. */
export interface FileHash {
  readonly digest: Digest;
  readonly bytes: number;
  readonly stable: boolean;
}

export interface ChecksumResult {
  readonly digest: Digest;
  /** Regular files in the filtered tree and their total size. */
  readonly files: number;
  readonly bytes: number;
  /** Bytes actually read: files the stat cache could not vouch for. */
  readonly hashedBytes: number;
}

const VERSION = "buildkit-ts local tree v1\n";
/**
 * A file changed this close (or closer) to the start of a checksum might change again within the
 * same timestamp tick (coarse kernel clocks tick every 1-10 ms) without its mtime or ctime moving;
 * such files are hashed but not cached.
 */
const RACY_NS = 20_000_000n;
const CHUNK = 256 * 1024;
/**
 * How many entries may differ from the saved tree records before they are saved again. Each
 * costs later checksums a stat record lookup (and its file's line made again); saving costs
 * writing, and at the build's end syncing, the whole file (1.6 MB for 10,000 files), so a
 * one-file change does not.
 */
const DRIFT = 64;

export async function checksumTree(root: string, opts: ChecksumOptions): Promise<ChecksumResult> {
  const realRoot = await resolveLocalRoot(root, opts.name ?? root);
  // Before the first lstat: a file changed less than RACY_NS before it was looked at is racy.
  const racyAfter = BigInt(Date.now()) * 1_000_000n - RACY_NS;
  const walked = await walkTreeRecords(realRoot, opts);
  opts.walked?.(walked);
  const key = stampKey(realRoot, opts);
  const seen = walked.stamp();
  const known = opts.cache.treeStamp(key);
  if (known?.stamp === seen) return { digest: known.digest, files: known.files, bytes: known.bytes, hashedBytes: 0 };
  const prehashed = opts.prehash ? await opts.prehash(walked) : undefined;
  const entries = walked.entries();
  // What the last settled checksum saw: with the same entries in the same order, only those
  // whose stat facts moved are looked at (tree-records.ts).
  const before = opts.cache.treeRecords(key);
  const changed = before && changedRecords(walked.raw(), { bytes: before.walk, ends: before.walkEnds });
  // (Records left over are of paths gone only after a whole walk; with the stored records, the
  // entries not looked at are there still.)
  const run =
    changed === undefined
      ? new ChecksumRun(realRoot, racyAfter, opts, prehashed, opts.cache.load(realRoot), true)
      : new ChecksumRun(realRoot, racyAfter, opts, prehashed, knownOf(opts.cache, realRoot, entries, changed), false);
  if (before === undefined || changed === undefined) {
    for (const entry of entries) {
      const adding = run.add(entry);
      if (adding) await adding;
    }
  } else {
    // The unchanged entries' counts are the earlier run's, less what the changed ones were.
    let files = before.files;
    let bytes = before.bytes;
    const old = { bytes: before.walk, ends: before.walkEnds };
    for (const k of changed) {
      const size = recordFileSize(old, k);
      if (size !== undefined) {
        files--;
        bytes -= size;
      }
    }
    run.count(files, bytes);
    let next = 0;
    for (const k of changed) {
      if (k > next) run.addStored(before, next, k);
      const adding = run.add(entries[k] as Entry);
      if (adding) await adding;
      next = k + 1;
    }
    if (next < entries.length) run.addStored(before, next, entries.length);
  }
  const result = run.finish();
  if (run.settled) {
    opts.cache.setTreeStamp(key, { stamp: seen, digest: result.digest, files: result.files, bytes: result.bytes });
    // A few changed entries leave the saved records as they are (see DRIFT).
    if (changed !== undefined && changed.length <= DRIFT) return result;
    const raw = walked.raw();
    const lines = run.lines();
    opts.cache.setTreeRecords(key, encodeTreeRecords(key, { files: result.files, bytes: result.bytes, walk: raw.bytes, walkEnds: raw.ends, lines: lines.bytes, lineEnds: lines.ends }));
  }
  return result;
}

/**
 * The stat records of the changed entries only: one query each for a few, one for the whole
 * root when many changed.
 */
function knownOf(cache: StatCache, root: string, entries: readonly Entry[], changed: readonly number[]): Map<string, StatRecord> {
  if (changed.length > DRIFT) return cache.load(root);
  const known = new Map<string, StatRecord>();
  for (const k of changed) {
    const path = (entries[k] as Entry).path;
    const record = cache.get(root, path);
    if (record !== undefined) known.set(path, record);
  }
  return known;
}

/** The stamp's key: the root and the filters that chose what was walked. */
function stampKey(root: string, opts: WalkOptions): string {
  return JSON.stringify([root, opts.include ?? [], opts.exclude ?? [], opts.followPaths ?? []]);
}

class ChecksumRun {
  readonly #root: string;
  readonly #opts: ChecksumOptions;
  readonly #known: Map<string, StatRecord>;
  readonly #changed: [string, StatRecord][] = [];
  readonly #hasher = new Bun.CryptoHasher("sha256");
  readonly #racyAfter: bigint;
  readonly #pacer: Pacer;
  readonly #prehashed: ReadonlyMap<string, FileHash> | undefined;
  /** The digest's bytes per entry, for the tree records: what was hashed, and where each line ends. */
  readonly #chunks: (string | Uint8Array)[] = [];
  readonly #lineEnds: LineEnds[] = [];
  #lineBytes = 0;
  /** Every file's content is known for its stat facts: none racy, none changing while read. */
  settled = true;
  #pending = "";
  #files = 0;
  #bytes = 0;
  #hashedBytes = 0;

  readonly #removeUnseen: boolean;

  /**
   * `known`: the stat records of (at least) the entries that will be added, by path;
   * `removeUnseen`: every entry will be added, so records of others are of paths gone.
   */
  constructor(root: string, racyAfter: bigint, opts: ChecksumOptions, prehashed: ReadonlyMap<string, FileHash> | undefined, known: Map<string, StatRecord>, removeUnseen: boolean) {
    this.#removeUnseen = removeUnseen;
    this.#prehashed = prehashed;
    this.#root = root;
    this.#racyAfter = racyAfter;
    this.#opts = opts;
    this.#known = known;
    this.#hasher.update(VERSION);
    this.#pacer = new Pacer(`checksumming ${root}`, opts.signal);
  }

  /** Adds an entry; returns a promise only when the file had to be read. */
  add(entry: Entry): Promise<void> | undefined {
    const cached = this.#known.get(entry.path);
    if (cached !== undefined) this.#known.delete(entry.path);
    if (entry.type !== "file") {
      const known = cached && sameFile(cached, entry) && sameOwner(cached, entry) && cached.linkTarget === entry.linkTarget;
      if (entry.type === "symlink" && !known) this.#changed.push([entry.path, toRecord(entry, undefined)]);
      this.#record(entry, undefined);
      return undefined;
    }
    this.#files++;
    this.#bytes += entry.size;
    const content = cached && sameFile(cached, entry) ? cached.contentDigest : undefined;
    if (content !== undefined) {
      // A new owner does not change the content: keep the digest, refresh the record.
      if (cached && !sameOwner(cached, entry)) this.#changed.push([entry.path, toRecord(entry, content)]);
      this.#record(entry, content);
      return undefined;
    }
    return this.#hash(entry).then((digest) => this.#record(entry, digest));
  }

  /**
   * Entries `from` to `to` (exclusive) as an earlier settled checksum hashed them: their stat
   * facts are unchanged since, so are their lines (tree-records.ts).
   */
  addStored(before: TreeRecords, from: number, to: number): void {
    const start = from === 0 ? 0 : (before.lineEnds[from - 1] as number);
    const lines = before.lines.subarray(start, before.lineEnds[to - 1]);
    this.#flush();
    this.#hasher.update(lines);
    this.#chunks.push(lines);
    this.#lineEnds.push({ stored: before.lineEnds.subarray(from, to), shift: this.#lineBytes - start });
    this.#lineBytes += lines.length;
  }

  /** Files and bytes of entries added with {@link addStored}, counted by the caller. */
  count(files: number, bytes: number): void {
    this.#files += files;
    this.#bytes += bytes;
  }

  /** Every entry's line, as hashed, and where each ends: the tree records to save. */
  lines(): { bytes: Uint8Array; ends: Uint32Array } {
    const bytes = new Uint8Array(this.#lineBytes);
    let at = 0;
    for (const chunk of this.#chunks) {
      if (typeof chunk === "string") at += utf8.encodeInto(chunk, bytes.subarray(at)).written;
      else {
        bytes.set(chunk, at);
        at += chunk.length;
      }
    }
    const ends = new Uint32Array(this.#lineEnds.reduce((n, part) => n + (Array.isArray(part) ? part.length : part.stored.length), 0));
    let k = 0;
    for (const part of this.#lineEnds) {
      if (Array.isArray(part)) ends.set(part, k);
      else {
        ends.set(part.stored, k);
        // Lines before these grew or shrank (an owner's digits, a link target): rare.
        if (part.shift !== 0) for (let i = k; i < k + part.stored.length; i++) ends[i] = (ends[i] as number) + part.shift;
      }
      k += Array.isArray(part) ? part.length : part.stored.length;
    }
    return { bytes, ends };
  }

  finish(): ChecksumResult {
    const { include, exclude, followPaths } = this.#opts;
    const filtered = [include, exclude, followPaths].some((p) => p !== undefined && p.length > 0);
    // Records of paths no longer there go, but only after a full walk: a filtered one saw less.
    const remove = filtered || !this.#removeUnseen ? [] : [...this.#known.keys()];
    if (this.#changed.length > 0 || remove.length > 0) this.#opts.cache.update(this.#root, { put: this.#changed, remove });
    this.#flush();
    const digest = `sha256:${this.#hasher.digest("hex")}` as Digest;
    return { digest, files: this.#files, bytes: this.#bytes, hashedBytes: this.#hashedBytes };
  }

  async #hash(entry: Entry): Promise<Digest> {
    const { digest, bytes, stable } = this.#prehashed?.get(entry.path) ?? (await hashFile(`${this.#root}/${entry.path}`, entry, this.#pacer));
    this.#hashedBytes += bytes;
    const changedAt = entry.ctimeNs > entry.mtimeNs ? entry.ctimeNs : entry.mtimeNs;
    if (stable && changedAt < this.#racyAfter) this.#changed.push([entry.path, toRecord(entry, digest)]);
    else this.settled = false;
    return digest;
  }

  #record(entry: Entry, content: Digest | undefined): void {
    const mode = ((entry.mode & 0o7777) | (entry.mode & S_IFMT)).toString(8);
    const hex = content === undefined ? "" : content.slice("sha256:".length);
    const line = `${entry.path}\0${mode}\0${entry.uid}\0${entry.gid}\0${entry.linkTarget ?? ""}\0${hex}\n`;
    this.#pending += line;
    this.#lineBytes += Buffer.byteLength(line);
    const last = this.#lineEnds.at(-1);
    if (Array.isArray(last)) last.push(this.#lineBytes);
    else this.#lineEnds.push([this.#lineBytes]);
    if (this.#pending.length >= 64 * 1024) this.#flush();
  }

  #flush(): void {
    if (this.#pending === "") return;
    this.#hasher.update(this.#pending);
    this.#chunks.push(this.#pending);
    this.#pending = "";
  }
}

const utf8 = new TextEncoder();

/** Where lines end: made here (bytes into the lines), or stored ones moved by `shift` bytes. */
type LineEnds = number[] | { readonly stored: Uint32Array; readonly shift: number };

/** Whether the cached facts still describe the entry (uid and gid do not change content). */
function sameFile(cached: StatRecord, entry: Entry): boolean {
  return (
    cached.size === entry.size &&
    cached.mtimeNs === entry.mtimeNs &&
    cached.ctimeNs === entry.ctimeNs &&
    cached.ino === entry.ino &&
    cached.dev === entry.dev &&
    cached.mode === entry.mode
  );
}

function sameOwner(cached: StatRecord, entry: Entry): boolean {
  return cached.uid === entry.uid && cached.gid === entry.gid;
}

function toRecord(entry: Entry, contentDigest: Digest | undefined): StatRecord {
  const { size, mtimeNs, ctimeNs, ino, dev, mode, uid, gid, linkTarget } = entry;
  return {
    size, mtimeNs, ctimeNs, ino, dev, mode, uid, gid,
    ...(linkTarget === undefined ? {} : { linkTarget }),
    ...(contentDigest === undefined ? {} : { contentDigest }),
  };
}

const buffer = Buffer.allocUnsafe(CHUNK);

/**
 * Streams a file through sha256 in chunks (never whole in memory), refusing to follow a link
 * that replaced it. Reads the walked size, no more (no read to find the end: the fstat after
 * tells a file that changed), which is also what the copy takes. `stable`: the file still had
 * the walked size, ctime and inode afterwards.
 */
async function hashFile(abs: string, entry: Entry, pacer: Pacer): Promise<{ digest: Digest; bytes: number; stable: boolean }> {
  const hasher = new Bun.CryptoHasher("sha256");
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw withContext(`hashing ${abs}`, err);
  }
  try {
    let bytes = 0;
    while (bytes < entry.size) {
      const n = readChunk(fd, abs, Math.min(CHUNK, entry.size - bytes));
      if (n === 0) break; // shrank: not stable, below
      hasher.update(buffer.subarray(0, n));
      bytes += n;
      const paused = pacer.tick();
      if (paused) await paused;
    }
    const after = fstatSync(fd, { bigint: true });
    const stable = Number(after.size) === entry.size && after.ctimeNs === entry.ctimeNs && after.ino === entry.ino;
    return { digest: `sha256:${hasher.digest("hex")}` as Digest, bytes, stable };
  } finally {
    closeSync(fd);
  }
}

function readChunk(fd: number, abs: string, length: number): number {
  try {
    return readSync(fd, buffer, 0, length, null);
  } catch (err) {
    throw withContext(`hashing ${abs}`, err);
  }
}
