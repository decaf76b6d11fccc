/**
 * The stat stamp of a walk: sha256 over every walked entry's depth, name and stat facts (mode,
 * uid, gid, size, inode, mtime, ctime, device, link target) in walk order. Depth and name in
 * walk order (depth first, sorted siblings) fix the tree's shape; the stat facts change with
 * any write, so an equal stamp means the same tree as when the stamp was taken (checksum.ts
 * saves one only when no file was racy then).
 *
 * Fed straight from statx's words (statx.ts) without an object or a BigInt per entry, or from
 * an {@link Entry} (walks through Node's lstat, ancestors emitted late): the same record for the
 * same facts either way.
 */
import type { Entry } from "./walk.ts";

const VERSION = "buildkit-ts stat stamp v2\n";
/** Bytes gathered before they are handed to the hasher. */
const FLUSH_AT = 64 * 1024;
/** The largest record: 17 words, a name and a link target of up to 4096 bytes each, padding. */
const RECORD_MAX = 19 * 4 + 2 * 4100 + 8;

const encoder = new TextEncoder();

export class StatStamp {
  readonly #hasher = new Bun.CryptoHasher("sha256");
  readonly #bytes = new Uint8Array(FLUSH_AT + RECORD_MAX);
  readonly #words = new Uint32Array(this.#bytes.buffer);
  /** Bytes used in #bytes, a multiple of 4 between records. */
  #used = 0;

  constructor() {
    this.#hasher.update(VERSION);
  }

  /**
   * One entry from statx's words (`sx`, struct statx as 32-bit words) and its UTF-8 name, the
   * first `nameLength` bytes of `name`; `linkTarget` for a symlink.
   */
  addStatx(depth: number, name: Readonly<Uint8Array>, nameLength: number, sx: Readonly<Uint32Array>, linkTarget: string | undefined): void {
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
    w[i++] = sx[24]!; // ctime seconds, nanoseconds
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
    for (let k = 0; k < nameLength; k++) bytes[at++] = name[k]!;
    this.#end(at, linkTarget);
  }

  /** One entry from a walk through Node's lstat. */
  addEntry(depth: number, e: Entry): void {
    const w = this.#words;
    let i = this.#used >> 2;
    w[i++] = depth;
    const nameAt = (i + 16) << 2; // after the name length and 15 words of facts
    const name = e.path.slice(e.path.lastIndexOf("/") + 1);
    const { written } = encoder.encodeInto(name, this.#bytes.subarray(nameAt, nameAt + 4096));
    w[i++] = written;
    w[i++] = e.uid;
    w[i++] = e.gid;
    w[i++] = e.mode;
    i = this.#u64(i, e.ino);
    i = this.#u64(i, BigInt(e.size));
    i = this.#time(i, e.ctimeNs);
    i = this.#time(i, e.mtimeNs);
    i = this.#u64(i, e.dev);
    this.#end(nameAt + written, e.linkTarget);
  }

  finish(): string {
    this.#hasher.update(this.#bytes.subarray(0, this.#used));
    this.#used = 0;
    return this.#hasher.digest("hex");
  }

  #u64(i: number, v: bigint): number {
    this.#words[i] = Number(v & 0xffffffffn);
    this.#words[i + 1] = Number((v >> 32n) & 0xffffffffn);
    return i + 2;
  }

  #time(i: number, ns: bigint): number {
    const sec = ns / 1_000_000_000n;
    i = this.#u64(i, sec);
    this.#words[i] = Number(ns - sec * 1_000_000_000n);
    return i + 1;
  }

  /** Closes a record at byte `at`: the link target, padding to a word, a flush when full. */
  #end(at: number, linkTarget: string | undefined): void {
    const bytes = this.#bytes;
    if (linkTarget !== undefined) {
      const { written } = encoder.encodeInto(linkTarget, bytes.subarray(at + 4, at + 4 + 4096));
      new DataView(bytes.buffer).setUint32(at, written, true);
      at += 4 + written;
    }
    while ((at & 3) !== 0) bytes[at++] = 0;
    this.#used = at;
    if (at >= FLUSH_AT) {
      this.#hasher.update(bytes.subarray(0, at));
      this.#used = 0;
    }
  }
}
