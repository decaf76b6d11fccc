/**
 * What a local source's last copy was made from (stat-cache.ts's local_copies): the walk's
 * records (walk-records.ts) and, per entry, whether the copy's file is exactly what those stat
 * facts describe, so that the next copy may link it. Kept as the walk has them, so the next copy
 * compares two walks record by record (walk-records.ts's changedRecords) instead of decoding
 * and encoding an object per file: 10,000 files took ~15 ms to decode and ~12 ms to encode.
 *
 * One value, little-endian: u32 count, u32 walk length, the walk records, u32 × count record
 * ends, u8 × count reusable flags (1: the file may be linked), padding to 4.
 *
 * Kept in a file per directory (CopyRecordFiles), not in the stat cache's database: ~850 KB for
 * 10,000 files took 6-20 ms to write there (and as much again at the checkpoint), ~1 ms as a
 * file. The database's row (stat-cache.ts) names the last copy; the file names the snapshot it
 * describes, and one that names another (a crash between the two writes) or is damaged is not
 * used: that copy then links nothing.
 */
import { join } from "node:path";
import { hexOf, sha256 } from "../../digest.ts";
import { replaceFileSync } from "../../fs/replace-file.ts";
import { touchIfOld } from "./stat-files-gc.ts";
import { readWhole } from "./tree-records.ts";
import { padToWord, WalkRecords } from "./walk-records.ts";

export interface CopyRecords {
  /** The walk the copy was made from, and where each of its records ends. */
  readonly walk: Uint8Array;
  readonly ends: Uint32Array;
  /** Per entry: 1 when the copy's file was made from exactly the recorded facts, else 0. */
  readonly reusable: Uint8Array;
}

export function encodeCopyRecords(r: CopyRecords): Uint8Array {
  const count = r.ends.length;
  const out = new Uint8Array(8 + r.walk.length + 4 * count + padToWord(count));
  const view = new DataView(out.buffer);
  view.setUint32(0, count, true);
  view.setUint32(4, r.walk.length, true);
  out.set(r.walk, 8);
  new Uint32Array(out.buffer, 8 + r.walk.length, count).set(r.ends);
  out.set(r.reusable, 8 + r.walk.length + 4 * count);
  return out;
}

/** The records in `data`, or undefined when it is not what encodeCopyRecords made. */
export function decodeCopyRecords(data: Uint8Array): CopyRecords | undefined {
  const bytes = data.byteOffset % 4 === 0 ? data : new Uint8Array(data); // (a copy: a Buffer's slice would be a view)
  if (bytes.length < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const count = view.getUint32(0, true);
  const walkLength = view.getUint32(4, true);
  if (walkLength % 4 !== 0 || bytes.length !== 8 + walkLength + 4 * count + padToWord(count)) return undefined;
  const ends = new Uint32Array(bytes.buffer, bytes.byteOffset + 8 + walkLength, count);
  if ((count === 0 ? 0 : ends[count - 1]) !== walkLength) return undefined;
  return { walk: bytes.subarray(8, 8 + walkLength), ends, reusable: bytes.subarray(8 + walkLength + 4 * count, 8 + walkLength + 5 * count) };
}

/** The paths whose files may be linked, in walk order (for tests and inspection). */
export function reusablePaths(r: CopyRecords): string[] {
  const entries = WalkRecords.fromRaw({ bytes: r.walk, ends: r.ends }).entries();
  return entries.filter((_, k) => r.reusable[k] === 1).map((e) => e.path);
}

const MAGIC = "bk-copy1";
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * Copy records in files under a directory, one per key (a local source's directory), each
 * "bk-copy1" | u32 snapshot length, snapshot name, padding to 4 | encodeCopyRecords's value |
 * u64 xxHash64 of everything before it. Replaced whole (written aside, then renamed).
 */
export class CopyRecordFiles {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The records saved for `key`, if they describe `snapshot` and are whole. */
  get(key: string, snapshot: string): CopyRecords | undefined {
    const read = readWhole(this.#file(key));
    if (read === undefined || read.length < 20 || read.length % 4 !== 0) return undefined;
    // (read in place as words: aligned, a copy when a read Buffer is not)
    const data = read.byteOffset % 4 === 0 ? read : new Uint8Array(read);
    const view = new DataView(data.buffer, data.byteOffset, data.length);
    const body = data.length - 8;
    if (view.getBigUint64(body, true) !== BigInt(Bun.hash.xxHash64(data.subarray(0, body)))) return undefined;
    if (fromUtf8.decode(data.subarray(0, 8)) !== MAGIC) return undefined;
    const nameLength = view.getUint32(8, true);
    if (12 + nameLength > body || fromUtf8.decode(data.subarray(12, 12 + nameLength)) !== snapshot) return undefined;
    const records = decodeCopyRecords(data.subarray(padToWord(12 + nameLength), body));
    if (records !== undefined) touchIfOld([this.#file(key)]); // used: kept from GC (stat-files-gc.ts)
    return records;
  }

  set(key: string, snapshot: string, records: CopyRecords): void {
    const name = utf8.encode(snapshot);
    const value = encodeCopyRecords(records);
    const at = padToWord(12 + name.length);
    const out = new Uint8Array(at + value.length + 8);
    out.set(utf8.encode(MAGIC), 0);
    new DataView(out.buffer).setUint32(8, name.length, true);
    out.set(name, 12);
    out.set(value, at);
    new DataView(out.buffer).setBigUint64(at + value.length, BigInt(Bun.hash.xxHash64(out.subarray(0, at + value.length))), true);
    replaceFileSync(this.#file(key), out, `recording local copy ${snapshot}`);
  }

  #file(key: string): string {
    return join(this.#dir, hexOf(sha256(key)));
  }
}
