/**
 * What a walk saw, kept compactly: one binary record per entry (depth, name and the stat facts
 * that move with any change: uid, gid, mode, inode, size, ctime, mtime, device, link target),
 * copied word by word from statx's buffer (statx.ts) with no object or BigInt per entry.
 *
 * The records' sha256 is the walk's stat stamp: depth and name in walk order (depth first,
 * sorted siblings) fix the tree's shape and the facts change with any write, so an equal stamp
 * means the same tree as when the stamp was saved (checksum.ts saves one only when no file was
 * racy then). {@link Entry} objects are made from the records only when asked for: an unchanged
 * tree answered by its stamp never needs them.
 *
 * Entries a walk has as objects (the lstat fallback, filtered-out ancestors emitted late) give
 * the same record as statx's words for the same facts.
 */
import { entryType, S_IFLNK, S_IFMT, S_IFREG } from "./walk.ts";
import type { Entry } from "./walk.ts";
import { LastBigInt, secondsNs, u64 } from "./last-bigint.ts";

const VERSION = "buildkit-ts stat stamp v2\n";
/** Words before a record's name: depth, name length, then 15 words of facts. */
const HEAD_WORDS = 17;
const NS = 1_000_000_000n;
const encoder = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * Records are kept in chunks, never split across two: a big tree's records (~70 bytes an entry)
 * are written once, not copied into a buffer twice the size at every doubling (the copies and
 * the fresh pages' faults were ~5 ms of a 10,000-entry walk here). The first chunk is small for
 * the many small trees.
 */
const FIRST_CHUNK = 64 * 1024;
const CHUNK = 256 * 1024;

export class WalkRecords {
  #bytes = new Uint8Array(FIRST_CHUNK);
  #words = new Uint32Array(this.#bytes.buffer);
  /** Bytes used in the current chunk, a multiple of 4 between records. */
  #used = 0;
  /** The chunks before the current one, each with the bytes of it used. */
  readonly #full: { readonly bytes: Uint8Array; readonly used: number }[] = [];
  /** Bytes in the full chunks: where the current one starts in the records as a whole. */
  #fullBytes = 0;
  /** Per record: the byte offset (in the records as a whole) where it ends, the next one starts. */
  readonly #ends: number[] = [];
  readonly #names: string[] = [];
  /** Per record: nlink and blocks, which are not part of the stamp (blocks move on their own). */
  readonly #extra: number[] = [];
  readonly #links = new Map<number, string>();
  #entries: Entry[] | undefined;

  get length(): number {
    return this.#names.length;
  }

  /**
   * One entry from statx's words (`sx`, struct statx as 32-bit words), its name and its UTF-8
   * bytes (`nameLength` of `nameBytes` from `nameAt`); `linkTarget` for a symlink.
   */
  addStatx(depth: number, name: string, nameBytes: Readonly<Uint8Array>, nameAt: number, nameLength: number, sx: Readonly<Uint32Array>, linkTarget: string | undefined): void {
    this.#room(HEAD_WORDS * 4 + nameLength);
    const w = this.#words;
    let i = this.#used >> 2;
    w[i++] = depth;
    w[i++] = nameLength;
    w[i++] = sx[5]!; // uid
    w[i++] = sx[6]!; // gid
    w[i++] = sx[7]! & 0xffff; // mode
    w[i++] = sx[8]!; // ino
    w[i++] = sx[9]!;
    w[i++] = sx[10]!; // size
    w[i++] = sx[11]!;
    w[i++] = sx[24]!; // ctime: seconds (s64), nanoseconds
    w[i++] = sx[25]!;
    w[i++] = sx[26]!;
    w[i++] = sx[28]!; // mtime
    w[i++] = sx[29]!;
    w[i++] = sx[30]!;
    // device, packed as glibc's makedev (sys.ts), as Node's lstat reports it
    const major = sx[34]!;
    const minor = sx[35]!;
    w[i++] = ((minor & 0xfff00) << 12) | ((major & 0xfff) << 8) | (minor & 0xff);
    w[i++] = (major & 0xfffff000) | (minor >>> 20);
    let at = i << 2;
    const bytes = this.#bytes;
    for (let k = nameAt, end = nameAt + nameLength; k < end; k++) bytes[at++] = nameBytes[k]!;
    this.#extra.push(sx[4]!, sx[12]! + sx[13]! * 2 ** 32);
    this.#end(at, name, linkTarget);
  }

  /** One entry the walk has as an object. */
  addEntry(depth: number, e: Entry): void {
    const name = e.path.slice(e.path.lastIndexOf("/") + 1);
    this.#room(HEAD_WORDS * 4 + 3 * name.length);
    const w = this.#words;
    let i = this.#used >> 2;
    w[i++] = depth;
    const nameAt = (i + HEAD_WORDS - 1) << 2;
    const { written } = encoder.encodeInto(name, this.#bytes.subarray(nameAt));
    w[i++] = written;
    w[i++] = e.uid;
    w[i++] = e.gid;
    w[i++] = e.mode;
    i = this.#u64(i, e.ino);
    i = this.#u64(i, BigInt(e.size));
    i = this.#time(i, e.ctimeNs);
    i = this.#time(i, e.mtimeNs);
    this.#u64(i, e.dev);
    this.#extra.push(e.nlink, e.blocks);
    this.#end(nameAt + written, name, e.linkTarget);
  }

  /** The stat stamp: sha256 of every record, in walk order. */
  stamp(): string {
    const hasher = new Bun.CryptoHasher("sha256");
    hasher.update(VERSION);
    for (const { bytes, used } of this.#chunks()) hasher.update(bytes.subarray(0, used));
    return hasher.digest("hex");
  }

  /** The walked entries, in walk order (made on first use). */
  entries(): readonly Entry[] {
    return (this.#entries ??= this.#decode());
  }

  /**
   * The records as the stamp hashes them, and where each ends: for comparing a walk with an
   * earlier one record by record (tree-records.ts). Valid until the next add.
   */
  raw(): RawRecords & { readonly ends: readonly number[] } {
    if (this.#full.length === 0) return { bytes: this.#bytes.subarray(0, this.#used), ends: this.#ends };
    // Chunks joined once (a 10,000-entry walk: ~700 KB, a fraction of a millisecond).
    const bytes = new Uint8Array(this.#fullBytes + this.#used);
    let at = 0;
    for (const c of this.#chunks()) {
      bytes.set(c.bytes.subarray(0, c.used), at);
      at += c.used;
    }
    return { bytes, ends: this.#ends };
  }

  /**
   * Records kept as {@link raw} gave them, to be read as entries again (their nlink and blocks,
   * not part of a record, read 0).
   */
  static fromRaw(raw: RawRecords): WalkRecords {
    const records = new WalkRecords();
    const bytes = new Uint8Array(raw.bytes); // a copy of its own, at offset 0 (a Buffer's slice would be a view)
    records.#bytes = bytes;
    records.#words = new Uint32Array(bytes.buffer, 0, bytes.length >> 2);
    records.#used = bytes.length;
    const w = records.#words;
    const view = new DataView(bytes.buffer, 0, bytes.length);
    let at = 0;
    for (let k = 0; k < raw.ends.length; k++) {
      const i = at >> 2;
      const nameAt = (i + HEAD_WORDS) * 4;
      const nameEnd = nameAt + w[i + 1]!;
      records.#names.push(fromUtf8.decode(bytes.subarray(nameAt, nameEnd)));
      // A record has a link target exactly when it is a symlink's (#end).
      if ((w[i + 4]! & S_IFMT) === S_IFLNK) records.#links.set(k, fromUtf8.decode(bytes.subarray(nameEnd + 4, nameEnd + 4 + view.getUint32(nameEnd, true))));
      records.#extra.push(0, 0);
      at = raw.ends[k]!;
      records.#ends.push(at);
    }
    return records;
  }

  #chunks(): readonly { readonly bytes: Uint8Array; readonly used: number }[] {
    return [...this.#full, { bytes: this.#bytes, used: this.#used }];
  }

  #decode(): Entry[] {
    const out: Entry[] = [];
    /** The path of the last entry seen at each depth: the parent of what follows one deeper. */
    const dirs: string[] = [];
    let k = 0;
    for (const { bytes, used } of this.#chunks()) k = this.#decodeChunk(bytes, used, k, dirs, out);
    return out;
  }

  /** Decodes the records in `used` bytes of `bytes`, the first one record number `k`; the next k. */
  #decodeChunk(bytes: Uint8Array, used: number, k: number, dirs: string[], out: Entry[]): number {
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    // A tree's entries share a few timestamps' seconds and one device: each BigInt made once.
    const seconds = new LastBigInt(secondsNs);
    const devs = new LastBigInt(u64);
    for (let at = 0; at < used; k++) {
      const i = at >> 2;
      const depth = w[i]!;
      const name = this.#names[k]!;
      const path = depth <= 1 ? name : `${dirs[depth - 2]}/${name}`;
      dirs[depth - 1] = path;
      const mode = w[i + 4]!;
      const linkTarget = this.#links.get(k);
      out.push({
        path,
        type: entryType(mode),
        mode,
        uid: w[i + 2]!,
        gid: w[i + 3]!,
        size: w[i + 7]! + w[i + 8]! * 2 ** 32,
        ctimeNs: seconds.of(w[i + 9]!, w[i + 10]!) + BigInt(w[i + 11]!),
        mtimeNs: seconds.of(w[i + 12]!, w[i + 13]!) + BigInt(w[i + 14]!),
        ino: w[i + 6] === 0 ? BigInt(w[i + 5]!) : BigInt(w[i + 5]!) | (BigInt(w[i + 6]!) << 32n),
        dev: devs.of(w[i + 15]!, w[i + 16]!),
        nlink: this.#extra[2 * k]!,
        blocks: this.#extra[2 * k + 1]!,
        linkTarget,
      });
      // The name, then for a symlink its target's length and bytes, then padding to a word.
      const nameEnd = (i + HEAD_WORDS) * 4 + w[i + 1]!;
      at = padToWord(linkTarget === undefined ? nameEnd : nameEnd + 4 + view.getUint32(nameEnd, true));
    }
    return k;
  }

  /** Makes room for a record of up to `head` bytes before its link target: a new chunk if need be. */
  #room(head: number): void {
    const need = head + 4 + 3 * 4096 + 4;
    if (this.#used + need <= this.#bytes.length) return;
    this.#full.push({ bytes: this.#bytes, used: this.#used });
    this.#fullBytes += this.#used;
    this.#bytes = new Uint8Array(Math.max(need, CHUNK));
    this.#words = new Uint32Array(this.#bytes.buffer);
    this.#used = 0;
  }

  #u64(i: number, v: bigint): number {
    this.#words[i] = Number(BigInt.asUintN(32, v));
    this.#words[i + 1] = Number(BigInt.asUintN(32, v >> 32n));
    return i + 2;
  }

  /** A time in nanoseconds as statx has it: seconds (floored, s64) and nanoseconds. */
  #time(i: number, ns: bigint): number {
    let sec = ns / NS;
    let nsec = ns - sec * NS;
    if (nsec < 0n) {
      sec -= 1n;
      nsec += NS;
    }
    i = this.#u64(i, sec);
    this.#words[i] = Number(nsec);
    return i + 1;
  }

  /** Closes a record at byte `at`: the link target (length, bytes), padding to a word. */
  #end(at: number, name: string, linkTarget: string | undefined): void {
    const bytes = this.#bytes;
    if (linkTarget !== undefined) {
      this.#links.set(this.#names.length, linkTarget);
      const { written } = encoder.encodeInto(linkTarget, bytes.subarray(at + 4));
      new DataView(bytes.buffer).setUint32(at, written, true);
      at += 4 + written;
    }
    while ((at & 3) !== 0) bytes[at++] = 0;
    this.#used = at;
    this.#ends.push(this.#fullBytes + at);
    this.#names.push(name);
    this.#entries = undefined;
  }
}

/** `at` rounded up to a multiple of 4: where the next word-aligned section of a record file starts. */
export function padToWord(at: number): number {
  return (at + 3) & ~3;
}

/**
 * Which records of a walk (`now`) differ from an earlier walk's (`before`, same layout), by
 * index, when both have the same entries (depth and name) in the same order; undefined when
 * they do not (an entry added, removed or renamed).
 */
export function changedRecords(now: RawRecords, before: RawRecords): number[] | undefined {
  const count = now.ends.length;
  if (before.ends.length !== count) return undefined;
  const a = words(now.bytes);
  const b = words(before.bytes);
  const changed: number[] = [];
  const nowEnds = Uint32Array.from(now.ends);
  const beforeEnds = before.ends instanceof Uint32Array ? before.ends : Uint32Array.from(before.ends);
  if (now.bytes.length === before.bytes.length && equalBytes(nowEnds, beforeEnds)) {
    // Every record where it was: blocks of records compared as bytes (natively), and only a
    // block that differs record by record. (A loop over every word is milliseconds of cold code.)
    for (let k0 = 0; k0 < count; k0 += BLOCK) {
      const k1 = Math.min(count, k0 + BLOCK);
      const start = k0 === 0 ? 0 : nowEnds[k0 - 1]!;
      const end = nowEnds[k1 - 1]!;
      if (equalBytes(now.bytes.subarray(start, end), before.bytes.subarray(start, end))) continue;
      if (!compareRecords(a, nowEnds, b, beforeEnds, k0, k1, changed)) return undefined;
    }
    return changed;
  }
  return compareRecords(a, nowEnds, b, beforeEnds, 0, count, changed) ? changed : undefined;
}

/** Records per block compared at once by {@link changedRecords}. */
const BLOCK = 128;

/**
 * Records `from` to `to` of `a` and `b` (words, with each record's end offset in bytes) one by
 * one: the indexes that differ appended to `changed`; false when one is another entry.
 */
function compareRecords(a: Uint32Array, aEnds: ArrayLike<number>, b: Uint32Array, bEnds: ArrayLike<number>, from: number, to: number, changed: number[]): boolean {
  let i = from === 0 ? 0 : aEnds[from - 1]! >> 2;
  let j = from === 0 ? 0 : bEnds[from - 1]! >> 2;
  for (let k = from; k < to; k++) {
    const iEnd = aEnds[k]! >> 2;
    const jEnd = bEnds[k]! >> 2;
    if (!sameWords(a, i, iEnd, b, j, jEnd)) {
      // Depth and name length, then the name's words (padded with zeros alike)
      if (a[i] !== b[j] || a[i + 1] !== b[j + 1]) return false;
      const nameWords = (a[i + 1]! + 3) >> 2;
      if (!sameWords(a, i + HEAD_WORDS, i + HEAD_WORDS + nameWords, b, j + HEAD_WORDS, j + HEAD_WORDS + nameWords)) return false;
      changed.push(k);
    }
    i = iEnd;
    j = jEnd;
  }
  return true;
}

/** Record `k`'s size when it is a regular file's, else undefined. */
export function recordFileSize(raw: RawRecords, k: number): number | undefined {
  const w = words(raw.bytes);
  const i = k === 0 ? 0 : raw.ends[k - 1]! >> 2;
  if ((w[i + 4]! & S_IFMT) !== S_IFREG) return undefined;
  return w[i + 7]! + w[i + 8]! * 2 ** 32;
}

function equalBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** A walk's records as {@link WalkRecords.raw} gives them (or as stored, tree-records.ts). */
export interface RawRecords {
  readonly bytes: Uint8Array;
  readonly ends: ArrayLike<number>;
}

function words(bytes: Uint8Array): Uint32Array {
  if (bytes.byteOffset % 4 !== 0 || bytes.length % 4 !== 0) throw new Error("walk records: not word-aligned");
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
}

function sameWords(a: Uint32Array, i: number, iEnd: number, b: Uint32Array, j: number, jEnd: number): boolean {
  if (iEnd - i !== jEnd - j) return false;
  for (; i < iEnd; i++, j++) if (a[i] !== b[j]) return false;
  return true;
}
