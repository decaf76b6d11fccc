/**
 * Tar headers as OCI layers use them: POSIX ustar blocks, PAX extended records (path,
 * linkpath, size, uid, gid, mtime, atime, SCHILY.xattr.*) and the GNU long-name entries ('L',
 * 'K') some tools still write. Encoding is deterministic: no user or group names, no atime or
 * ctime, a PAX header only where ustar cannot hold a value.
 */
import { BuildkitError } from "../errors.ts";

export const BLOCK = 512;

export type EntryType = "file" | "hardlink" | "symlink" | "char" | "block" | "dir" | "fifo";

/** One entry's metadata once PAX and GNU extensions are folded in. */
export interface TarHeader {
  name: string;
  type: EntryType;
  /** Permission and set-id/sticky bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: bigint;
  atimeNs?: bigint;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** From SCHILY.xattr.* records, in the order the archive gives them. */
  xattrs: Array<[string, Uint8Array]>;
}

const TYPE_FLAGS: Readonly<Record<EntryType, string>> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};

const FLAG_TYPES = new Map<string, EntryType>([
  ["0", "file"],
  ["\0", "file"],
  ["7", "file"],
  ["1", "hardlink"],
  ["2", "symlink"],
  ["3", "char"],
  ["4", "block"],
  ["5", "dir"],
  ["6", "fifo"],
]);

const NS = 1_000_000_000n;
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function invalidTar(cause: string): BuildkitError {
  return new BuildkitError("InvalidArgument", `invalid tar: ${cause}`);
}

/** The entry type of a typeflag, undefined for extension and unknown flags. */
export function entryType(flag: string): EntryType | undefined {
  return FLAG_TYPES.get(flag);
}

// ---- decoding -------------------------------------------------------------------------------

/** A NUL-terminated string field. */
export function readString(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

/** An octal or base-256 (GNU, high bit set) numeric field. */
export function readNumber(block: Uint8Array, offset: number, length: number): bigint {
  const field = block.subarray(offset, offset + length);
  const first = field[0] ?? 0;
  if ((first & 0x80) !== 0) {
    let value = BigInt(first & 0x7f) - ((first & 0x40) !== 0 ? 0x80n : 0n);
    for (const byte of field.subarray(1)) value = (value << 8n) | BigInt(byte);
    return value;
  }
  // Octal digits between optional NUL/space padding, read byte by byte: a layer's headers hold
  // thousands of these fields, and a decode, three regular expressions and a BigInt parse each
  // showed in profiles of cold layer unpacking.
  let start = 0;
  let end = field.length;
  while (end > start && (field[end - 1] === 0 || field[end - 1] === 0x20)) end--;
  while (start < end && (field[start] === 0 || field[start] === 0x20)) start++;
  if (start === end) return 0n;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = (field[i] ?? 0) - 0x30;
    if (digit < 0 || digit > 7) throw invalidTar(`numeric field ${JSON.stringify(decoder.decode(field.subarray(start, end)))} is not octal`);
    value = value * 8 + digit;
  }
  // Up to 17 octal digits (51 bits) the double is exact.
  return end - start <= 17 ? BigInt(value) : BigInt(`0o${decoder.decode(field.subarray(start, end))}`);
}

/** True when the block is all zeros (an end-of-archive marker). */
export function isZeroBlock(block: Uint8Array): boolean {
  for (const byte of block) if (byte !== 0) return false;
  return true;
}

/** Checks the header checksum, computed unsigned (and signed, as old tars did). */
export function verifyChecksum(block: Uint8Array): void {
  const stored = Number(readNumber(block, 148, 8));
  // The checksum field itself counts as eight spaces; the signed sum differs from the unsigned
  // one by 256 for each byte above 127.
  let unsigned = 8 * 0x20;
  let high = 0;
  for (let i = 0; i < BLOCK; i++) {
    if (i === 148) i = 156;
    const byte = block[i] ?? 0;
    unsigned += byte;
    if (byte > 127) high++;
  }
  const signed = unsigned - 256 * high;
  if (stored !== unsigned && stored !== signed) throw invalidTar("header checksum mismatch");
}

/** Parses PAX records ("%d key=value\n") into a map of raw values. */
export function parsePax(data: Uint8Array): Map<string, Uint8Array> {
  const records = new Map<string, Uint8Array>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // NUL padding
    const space = data.indexOf(0x20, pos);
    const length = space < 0 ? Number.NaN : Number(decoder.decode(data.subarray(pos, space)));
    const end = pos + length;
    if (!Number.isSafeInteger(length) || length <= 0 || end > data.length || data[end - 1] !== 0x0a) {
      throw invalidTar("malformed PAX record");
    }
    const eq = data.indexOf(0x3d, space);
    if (eq < 0 || eq >= end) throw invalidTar("malformed PAX record");
    records.set(decoder.decode(data.subarray(space + 1, eq)), data.subarray(eq + 1, end - 1));
    pos = end;
  }
  return records;
}

/** A PAX time ("1700000000.5", "-1.25") in nanoseconds. */
export function parsePaxTime(text: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text);
  if (m === null) throw invalidTar(`PAX time ${JSON.stringify(text)} is malformed`);
  const frac = (m[3] ?? "").slice(0, 9).padEnd(9, "0");
  const ns = BigInt(m[2] ?? "0") * NS + BigInt(frac);
  return m[1] === "-" ? -ns : ns;
}

export function decodeText(data: Uint8Array): string {
  return decoder.decode(data);
}

// ---- encoding -------------------------------------------------------------------------------

function writeString(block: Uint8Array, offset: number, length: number, value: string): void {
  block.set(encoder.encode(value).subarray(0, length), offset);
}

/** Zero-padded octal with a NUL terminator, as Go's archive/tar writes it. */
function writeOctal(block: Uint8Array, offset: number, length: number, value: number | bigint): void {
  writeString(block, offset, length, value.toString(8).padStart(length - 1, "0"));
}

function fitsName(value: string): boolean {
  return value.length <= 100 && /^[\x01-\x7f]*$/.test(value);
}

/** "sec[.frac]" with trailing zeros trimmed, as Go formats PAX times. */
export function formatPaxTime(ns: bigint): string {
  let sec = ns / NS;
  let nsec = ns % NS;
  if (nsec === 0n) return sec.toString();
  let sign = "";
  if (ns < 0n) {
    sign = "-";
    sec = -sec;
    nsec = -nsec;
  }
  return `${sign}${sec}.${nsec.toString().padStart(9, "0")}`.replace(/0+$/, "");
}

/** One PAX record; its decimal length counts itself. */
function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const body = encoder.encode(` ${key}=`);
  const base = body.length + value.length + 1;
  let length = base + String(base).length;
  if (String(length).length !== String(base).length) length = base + String(length).length;
  const record = new Uint8Array(length);
  const prefix = encoder.encode(String(length));
  record.set(prefix, 0);
  record.set(body, prefix.length);
  record.set(value, prefix.length + body.length);
  record[length - 1] = 0x0a;
  return record;
}

/** The PAX records a header needs, in a fixed order; empty when ustar holds everything. */
function paxRecords(h: TarHeader): Uint8Array[] {
  const records: Uint8Array[] = [];
  const text = (key: string, value: string) => records.push(paxRecord(key, encoder.encode(value)));
  if (h.uid > MAX_OCTAL_8) text("uid", String(h.uid));
  if (h.gid > MAX_OCTAL_8) text("gid", String(h.gid));
  if (!fitsName(h.linkname)) text("linkpath", h.linkname);
  if (h.mtimeNs % NS !== 0n || h.mtimeNs < 0n || h.mtimeNs / NS > BigInt(MAX_OCTAL_12)) text("mtime", formatPaxTime(h.mtimeNs));
  if (!fitsName(h.name)) text("path", h.name);
  if (h.size > MAX_OCTAL_12) text("size", String(h.size));
  for (const [name, value] of [...h.xattrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    records.push(paxRecord(`SCHILY.xattr.${name}`, value));
  }
  return records;
}

/** A ustar header block; fields that do not fit are left to the PAX records. */
function ustarBlock(h: TarHeader, flag: string): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const mtime = h.mtimeNs / NS;
  writeString(block, 0, 100, fitsName(h.name) ? h.name : asciiName(h.name));
  writeOctal(block, 100, 8, h.mode & 0o7777);
  writeOctal(block, 108, 8, h.uid > MAX_OCTAL_8 ? 0 : h.uid);
  writeOctal(block, 116, 8, h.gid > MAX_OCTAL_8 ? 0 : h.gid);
  writeOctal(block, 124, 12, h.size > MAX_OCTAL_12 ? 0 : h.size);
  writeOctal(block, 136, 12, mtime < 0n || mtime > BigInt(MAX_OCTAL_12) ? 0n : mtime);
  block[156] = flag.charCodeAt(0);
  writeString(block, 157, 100, fitsName(h.linkname) ? h.linkname : asciiName(h.linkname));
  writeString(block, 257, 8, "ustar\u000000");
  writeOctal(block, 329, 8, h.devmajor);
  writeOctal(block, 337, 8, h.devminor);
  let sum = 0;
  block.fill(0x20, 148, 156);
  for (const byte of block) sum += byte;
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

/** Printable ASCII, at most 100 bytes: the stand-in name when a PAX record holds the real one. */
function asciiName(name: string): string {
  return name.replace(/[^\x01-\x7f]/g, "").slice(0, 100);
}

function padded(length: number): number {
  return Math.ceil(length / BLOCK) * BLOCK;
}

/**
 * The header blocks of one entry: a PAX header entry (named `dir/PaxHeaders.0/base`) when
 * needed, then the ustar block. Values are checked by the caller (devices fit in 7 octal digits).
 */
export function encodeHeader(h: TarHeader): Uint8Array {
  if (h.devmajor > MAX_OCTAL_8 || h.devminor > MAX_OCTAL_8) throw invalidTar(`device number of ${h.name} too large`);
  const main = ustarBlock(h, TYPE_FLAGS[h.type]);
  const records = paxRecords(h);
  if (records.length === 0) return main;
  const size = records.reduce((n, r) => n + r.length, 0);
  const bare = h.name.replace(/\/$/, "");
  const slash = bare.lastIndexOf("/");
  const paxName = `${bare.slice(0, slash + 1)}PaxHeaders.0/${bare.slice(slash + 1)}`;
  const pax: TarHeader = { ...h, name: asciiName(paxName), type: "file", size, linkname: "", xattrs: [] };
  const paxBlock = ustarBlock({ ...pax, mtimeNs: 0n, uid: 0, gid: 0, mode: 0, devmajor: 0, devminor: 0 }, "x");
  const out = new Uint8Array(BLOCK + padded(size) + BLOCK);
  out.set(paxBlock, 0);
  let pos = BLOCK;
  for (const r of records) {
    out.set(r, pos);
    pos += r.length;
  }
  out.set(main, BLOCK + padded(size));
  return out;
}

/** Zero bytes that pad an entry's data to a whole block. */
export function padding(size: number): number {
  return padded(size) - size;
}
