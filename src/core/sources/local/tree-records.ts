/**
 * What a settled checksum of a tree saw, kept beside its stamp (tree-stamps.ts) so that the next
 * checksum after a small change reads neither the stat cache's records nor unchanged files: the
 * walk's records (walk-records.ts: each entry's depth, name and stat facts, in walk order) and,
 * per entry, the exact bytes the tree digest hashed for it (checksum.ts: path, mode, owner, link
 * target, content digest).
 *
 * The next walk is compared with the stored one record by record. Where both have the same
 * entries in the same order, an identical record means the same stat facts, hence (as for the
 * stat cache) the same content: its stored line is hashed again as it is. Only entries whose
 * facts moved are looked at. Any other difference (an entry added, removed or renamed) and the
 * checksum takes its usual path.
 *
 * One binary file, little-endian, ending in a 64-bit xxHash of everything before it: a file cut
 * short or damaged is not used (a wrong line would be a wrong cache key). Not a defence against
 * someone who can write the state root, who can change anything there anyway.
 *   "bk-tree1" | u32 key length, key (UTF-8), padding to 4 | u32 count | f64 files, f64 bytes
 *   | u32 walk length, walk records | u32 × count: record ends | u32 × count: line ends
 *   | u32 lines length, lines, padding to 4 | u64 xxHash64
 * The offsets are read in place, as u32 arrays: every section starts on a 4-byte boundary.
 */

import { readFileSync } from "node:fs";
import { padToWord } from "./walk-records.ts";

const MAGIC = "bk-tree1";
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export interface TreeRecords {
  /** Regular files in the tree and their total size, as the checksum counted them. */
  readonly files: number;
  readonly bytes: number;
  /** Walk records as walk-records.ts makes them, and where each ends. */
  readonly walk: Uint8Array;
  readonly walkEnds: Uint32Array;
  /** The tree digest's bytes for each entry, and where each ends. */
  readonly lines: Uint8Array;
  readonly lineEnds: Uint32Array;
}

/** The bytes of a tree record file for `key` (the stamp's key: root and filters). */
export function encodeTreeRecords(key: string, records: TreeRecords | (Omit<TreeRecords, "walkEnds" | "lineEnds"> & { walkEnds: ArrayLike<number>; lineEnds: ArrayLike<number> })): Uint8Array {
  const { walk, walkEnds, lines, lineEnds } = records;
  const keyBytes = utf8.encode(key);
  const count = walkEnds.length;
  if (lineEnds.length !== count) throw new Error(`tree records: ${count} records but ${lineEnds.length} lines`);
  const size = 8 + 4 + padToWord(keyBytes.length) + 4 + 16 + 4 + padToWord(walk.length) + 8 * count + 4 + padToWord(lines.length) + 8;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(utf8.encode(MAGIC), 0);
  view.setUint32(8, keyBytes.length, true);
  out.set(keyBytes, 12);
  let at = padToWord(12 + keyBytes.length);
  view.setUint32(at, count, true);
  view.setFloat64(at + 4, records.files, true);
  view.setFloat64(at + 12, records.bytes, true);
  view.setUint32(at + 20, walk.length, true);
  out.set(walk, at + 24);
  at = padToWord(at + 24 + walk.length);
  new Uint32Array(out.buffer, at, count).set(walkEnds);
  new Uint32Array(out.buffer, at + 4 * count, count).set(lineEnds);
  at += 8 * count;
  view.setUint32(at, lines.length, true);
  out.set(lines, at + 4);
  at = padToWord(at + 4 + lines.length);
  view.setBigUint64(at, BigInt(Bun.hash.xxHash64(out.subarray(0, at))), true);
  return out;
}

/** The records in `file` if it is a whole, undamaged file for `key`; undefined otherwise. */
export function decodeTreeRecords(file: Uint8Array, key: string): TreeRecords | undefined {
  if (file.length < 8 + 4 + 4 + 16 + 4 + 4 + 8 || file.length % 4 !== 0) return undefined;
  const data = file.byteOffset % 4 === 0 ? file : new Uint8Array(file); // (a copy: a Buffer's slice would be a view)
  const bodyLength = data.length - 8;
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  if (view.getBigUint64(bodyLength, true) !== BigInt(Bun.hash.xxHash64(data.subarray(0, bodyLength)))) return undefined;
  if (fromUtf8.decode(data.subarray(0, 8)) !== MAGIC) return undefined;
  // Past the hash, a file this module wrote; the bounds are checked all the same.
  const read = (at: number) => (at + 4 <= bodyLength ? view.getUint32(at, true) : -1);
  const keyLength = read(8);
  if (keyLength < 0 || 12 + keyLength > bodyLength || fromUtf8.decode(data.subarray(12, 12 + keyLength)) !== key) return undefined;
  let at = padToWord(12 + keyLength);
  const count = read(at);
  if (count < 0 || at + 24 > bodyLength) return undefined;
  const files = view.getFloat64(at + 4, true);
  const bytes = view.getFloat64(at + 12, true);
  const walkLength = read(at + 20);
  if (walkLength < 0 || at + 24 + walkLength > bodyLength) return undefined;
  const walk = data.subarray(at + 24, at + 24 + walkLength);
  at = padToWord(at + 24 + walkLength);
  if (at + 8 * count + 4 > bodyLength) return undefined;
  const walkEnds = new Uint32Array(data.buffer, data.byteOffset + at, count);
  const lineEnds = new Uint32Array(data.buffer, data.byteOffset + at + 4 * count, count);
  at += 8 * count;
  const linesLength = read(at);
  if (linesLength < 0 || at + 4 + linesLength > bodyLength) return undefined;
  const lines = data.subarray(at + 4, at + 4 + linesLength);
  if ((count === 0 ? 0 : walkEnds[count - 1]) !== walkLength || (count === 0 ? 0 : lineEnds[count - 1]) !== linesLength) return undefined;
  return { files, bytes, walk, walkEnds, lines, lineEnds };
}

/**
 * A file's bytes, mapped rather than read where the platform can (reading 1.6 MB into new memory
 * took ~7 ms here, mapping it and hashing the pages ~1.5 ms); undefined when it cannot be had.
 * Only for files never written in place (replaced by rename): a mapping keeps what it opened.
 */
export function readWhole(path: string): Uint8Array | undefined {
  try {
    return Bun.mmap(path, { shared: false });
  } catch {
    // none (the usual reason), empty, or no mmap here: read it
  }
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}
