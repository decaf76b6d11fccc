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
//
// A port of Go's archive/tar Writer.WriteHeader (Go 1.19, as BuildKit v0.11.6 links it), byte for
// byte: the format is the first of USTAR, PAX, GNU the header allows (allowedFormats), names up to
// 256 ASCII bytes go into ustar's prefix and name fields, PAX records are sorted by key (xattrs,
// "SCHILY.xattr.*", first), and the PAX extended header entry is Go's minimal raw file. Pinned
// against Go's own output in test/vectors/tar-go.

/**
 * Which Header.Format the Go writer is given. "pax" is containerd's diff writer (FormatPAX: USTAR
 * when everything fits, else PAX; mtimes kept to the nanosecond, a fraction forcing PAX; a device
 * number past 7 octal digits an error). "unknown" is a header with no format (fsutil's WriteTar,
 * containerd's whiteouts and image exporter): mtimes rounded to the second, and GNU, with
 * base-256 numbers and ././@LongLink entries, as the last resort.
 */
export type GoTarFormat = "pax" | "unknown";

export interface EncodeOptions {
  readonly format?: GoTarFormat;
}

const NAME_SIZE = 100;
const PREFIX_SIZE = 155;

function utf8(value: string): Uint8Array {
  return encoder.encode(value);
}

/** Go's isASCII: no byte (rune) at or above 0x80 and no NUL. */
function isAscii(value: string): boolean {
  return /^[\x01-\x7f]*$/.test(value);
}

/** Go's toASCII: drops non-ASCII runes and NULs. */
function toAscii(value: string): string {
  return value.replace(/[^\x01-\x7f]/gu, "");
}

/** Go's formatter.formatString: copies, NUL-terminates if room, and on truncation ending in '/' cuts the slashes. */
function formatString(block: Uint8Array, offset: number, length: number, value: string | Uint8Array): void {
  const bytes = typeof value === "string" ? utf8(value) : value;
  block.set(bytes.subarray(0, length), offset);
  if (bytes.length < length) block[offset + bytes.length] = 0;
  if (bytes.length > length && block[offset + length - 1] === 0x2f) {
    let n = length;
    while (n > 0 && bytes[n - 1] === 0x2f) n--;
    block[offset + n] = 0;
  }
}

function fitsOctal(length: number, value: bigint): boolean {
  return value >= 0n && (length >= 22 || value < 1n << BigInt((length - 1) * 3));
}

function fitsBase256(length: number, value: bigint): boolean {
  const bits = BigInt((length - 1) * 8);
  return length >= 9 || (value >= -(1n << bits) && value < 1n << bits);
}

/** Go's formatOctal: zero-padded octal and a NUL; zero when the value does not fit. */
function formatOctal(block: Uint8Array, offset: number, length: number, value: number | bigint): void {
  const v = BigInt(value);
  formatString(block, offset, length, (fitsOctal(length, v) ? v : 0n).toString(8).padStart(length - 1, "0"));
}

/** Go's formatNumeric (GNU): octal when it fits, else base-256 with the high bit set. */
function formatNumeric(block: Uint8Array, offset: number, length: number, value: number | bigint): void {
  let v = BigInt(value);
  if (fitsOctal(length, v) || !fitsBase256(length, v)) return formatOctal(block, offset, length, v);
  for (let i = length - 1; i >= 0; i--) {
    block[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  block[offset] = (block[offset] ?? 0) | 0x80;
}

/** Go's splitUSTARPath: a long ASCII name as prefix (≤155) and name (≤100) split at a slash. */
export function splitUstarPath(name: string): [string, string] | undefined {
  let length = name.length;
  if (length <= NAME_SIZE || !isAscii(name)) return undefined;
  if (length > PREFIX_SIZE + 1) length = PREFIX_SIZE + 1;
  else if (name[length - 1] === "/") length--;
  const i = name.slice(0, length).lastIndexOf("/");
  const nlen = name.length - i - 1;
  if (i <= 0 || nlen > NAME_SIZE || nlen === 0 || i > PREFIX_SIZE) return undefined;
  return [name.slice(0, i), name.slice(i + 1)];
}

/** Go's path.Clean. */
function cleanPath(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(part);
  }
  const joined = (rooted ? "/" : "") + out.join("/");
  return joined === "" ? "." : joined;
}

/** path.Join(dir, "PaxHeaders.0", file) of path.Split(name), as writePAXHeader names its entry. */
export function paxHeaderName(name: string): string {
  const slash = name.lastIndexOf("/");
  const dir = name.slice(0, slash + 1);
  const file = name.slice(slash + 1);
  return cleanPath([dir, "PaxHeaders.0", file].filter((e) => e !== "").join("/"));
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

/** One PAX record; its decimal length counts itself (Go's formatPAXRecord). */
function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const body = utf8(` ${key}=`);
  const base = body.length + value.length + 1;
  let length = base + String(base).length;
  if (String(length).length !== String(base).length) length = base + String(length).length;
  const record = new Uint8Array(length);
  const prefix = utf8(String(length));
  record.set(prefix, 0);
  record.set(body, prefix.length);
  record.set(value, prefix.length + body.length);
  record[length - 1] = 0x0a;
  return record;
}

function floorSeconds(ns: bigint): bigint {
  const r = ns % NS;
  return r < 0n ? (ns - r) / NS - 1n : (ns - r) / NS;
}

/** Go's Time.Round(time.Second): to the nearest second, halves up. */
function roundNs(ns: bigint): bigint {
  const down = floorSeconds(ns) * NS;
  return 2n * (ns - down) < NS ? down : down + NS;
}

const FMT_USTAR = 1;
const FMT_PAX = 2;
const FMT_GNU = 4;

/** Go's Header.allowedFormats for the fields we write (no uname, gname, atime or ctime). */
function allowedFormats(h: TarHeader, mtimeNs: bigint, format: GoTarFormat): { allowed: number; pax: Map<string, Uint8Array> } {
  let allowed = FMT_USTAR | FMT_PAX | FMT_GNU;
  const pax = new Map<string, Uint8Array>();
  let preferPax = false;
  const verifyString = (s: string, paxKey: "path" | "linkpath") => {
    const tooLong = utf8(s).length > NAME_SIZE;
    if (s.includes("\0")) allowed &= ~FMT_GNU;
    if (!isAscii(s) || tooLong) {
      if (paxKey !== "path" || splitUstarPath(s) === undefined) allowed &= ~FMT_USTAR;
      pax.set(paxKey, utf8(s));
    }
  };
  const verifyNumeric = (n: bigint, size: number, paxKey: "uid" | "gid" | "size" | undefined, what: string) => {
    if (!fitsBase256(size, n)) allowed &= ~FMT_GNU;
    if (!fitsOctal(size, n)) {
      allowed &= ~FMT_USTAR;
      if (paxKey === undefined) allowed &= ~FMT_PAX;
      else pax.set(paxKey, utf8(n.toString()));
    }
    if (n < 0n) throw invalidTar(`${what} of ${h.name} is negative`);
  };
  verifyString(h.name, "path");
  verifyString(h.linkname, "linkpath");
  verifyNumeric(BigInt(h.mode), 8, undefined, "mode");
  verifyNumeric(BigInt(h.uid), 8, "uid", "uid");
  verifyNumeric(BigInt(h.gid), 8, "gid", "gid");
  verifyNumeric(BigInt(h.size), 12, "size", "size");
  verifyNumeric(BigInt(h.devmajor), 8, undefined, "device major");
  verifyNumeric(BigInt(h.devminor), 8, undefined, "device minor");
  const sec = floorSeconds(mtimeNs);
  const fits = fitsOctal(12, sec);
  if (!fits) allowed &= ~FMT_USTAR;
  if (!fits || mtimeNs % NS !== 0n) {
    preferPax = true;
    pax.set("mtime", utf8(formatPaxTime(mtimeNs)));
  }
  if (h.xattrs.length > 0) {
    for (const [name, value] of h.xattrs) {
      if (name === "" || name.includes("=") || name.includes("\0")) throw invalidTar(`xattr name ${JSON.stringify(name)} cannot be a PAX record`);
      pax.set(`SCHILY.xattr.${name}`, value);
    }
    allowed &= FMT_PAX;
  }
  if (format === "pax") allowed &= preferPax ? FMT_PAX : FMT_PAX | FMT_USTAR;
  return { allowed, pax };
}

const OCTAL_7 = 0o7777777;
const OCTAL_11 = 0o77777777777;

/**
 * Whether h needs nothing but a USTAR block in any format Go may choose: short ASCII name and
 * link (no prefix split), octal-sized numbers, a whole-second time in range, no xattrs. The
 * common case, checked without BigInts or a PAX map (a layer of 10,000 files encodes 10,000).
 */
function isPlainUstar(h: TarHeader, mtimeNs: bigint): boolean {
  return (
    h.xattrs.length === 0 &&
    h.name.length <= NAME_SIZE &&
    h.linkname.length <= NAME_SIZE &&
    isAscii(h.name) &&
    isAscii(h.linkname) &&
    h.mode >= 0 && h.mode <= OCTAL_7 &&
    h.uid >= 0 && h.uid <= OCTAL_7 &&
    h.gid >= 0 && h.gid <= OCTAL_7 &&
    h.size >= 0 && h.size <= OCTAL_11 &&
    h.devmajor >= 0 && h.devmajor <= OCTAL_7 &&
    h.devminor >= 0 && h.devminor <= OCTAL_7 &&
    mtimeNs >= 0n && mtimeNs % NS === 0n && mtimeNs / NS <= BigInt(OCTAL_11)
  );
}

/** templateV7Plus: the fields USTAR, PAX and GNU share (uname and gname empty). */
function templateBlock(h: TarHeader, flag: string, mtimeSec: bigint, str: (s: string) => string, num: typeof formatOctal): Uint8Array {
  const block = new Uint8Array(BLOCK);
  block[156] = flag.charCodeAt(0);
  formatString(block, 0, 100, str(h.name));
  formatString(block, 157, 100, str(h.linkname));
  num(block, 100, 8, h.mode);
  num(block, 108, 8, h.uid);
  num(block, 116, 8, h.gid);
  num(block, 124, 12, h.size);
  num(block, 136, 12, mtimeSec);
  num(block, 329, 8, h.devmajor);
  num(block, 337, 8, h.devminor);
  return block;
}

/** Go's block.setFormat: the magic, then the checksum ("%06o\0 "). */
function setFormat(block: Uint8Array, gnu: boolean): Uint8Array {
  block.set(utf8(gnu ? "ustar  \0" : "ustar\u000000"), 257);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  formatOctal(block, 148, 7, sum);
  block[155] = 0x20;
  return block;
}

/** Go's writeRawFile: a minimal header (name best-effort ASCII, ≤100 bytes, no trailing '/') and its data. */
function rawFile(name: string, data: Uint8Array, flag: string, gnu: boolean): Uint8Array[] {
  const block = new Uint8Array(BLOCK);
  block[156] = flag.charCodeAt(0);
  formatString(block, 0, 100, toAscii(name).slice(0, NAME_SIZE).replace(/\/+$/, ""));
  formatOctal(block, 100, 8, 0);
  formatOctal(block, 108, 8, 0);
  formatOctal(block, 116, 8, 0);
  formatOctal(block, 124, 12, data.length);
  formatOctal(block, 136, 12, 0);
  const body = new Uint8Array(padded(data.length));
  body.set(data);
  return [setFormat(block, gnu), body];
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function padded(length: number): number {
  return Math.ceil(length / BLOCK) * BLOCK;
}

/**
 * The header blocks of one entry exactly as Go's tar.Writer.WriteHeader writes them for `h`
 * (with Header.Format as `opts.format`, "pax" by default): a ustar block; or a PAX extended
 * header entry then the block; or GNU long-name/long-link entries then a GNU block.
 */
export function encodeHeader(h: TarHeader, opts: EncodeOptions = {}): Uint8Array {
  const format = opts.format ?? "pax";
  const mtimeNs = format === "unknown" ? roundNs(h.mtimeNs) : h.mtimeNs;
  const flag = TYPE_FLAGS[h.type];
  // Most entries: what Go writes for them is a plain USTAR block (allowedFormats would say so).
  if (isPlainUstar(h, mtimeNs)) return setFormat(templateBlock(h, flag, mtimeNs / NS, (s) => s, formatOctal), false);
  const { allowed, pax } = allowedFormats(h, mtimeNs, format);
  const mtimeSec = floorSeconds(mtimeNs);
  if ((allowed & FMT_USTAR) !== 0) {
    const split = splitUstarPath(h.name);
    const block = templateBlock({ ...h, name: split?.[1] ?? h.name }, flag, mtimeSec, (s) => s, formatOctal);
    formatString(block, 345, PREFIX_SIZE, split?.[0] ?? "");
    return setFormat(block, false);
  }
  if ((allowed & FMT_PAX) !== 0) {
    const keys = [...pax.keys()].sort(byteCompare);
    const data = concat(keys.map((k) => paxRecord(k, pax.get(k) ?? new Uint8Array())));
    const main = setFormat(templateBlock(h, flag, mtimeSec, toAscii, formatOctal), false);
    return concat([...rawFile(paxHeaderName(h.name), data, "x", false), main]);
  }
  if ((allowed & FMT_GNU) !== 0) {
    const parts: Uint8Array[] = [];
    const name = utf8(h.name);
    const link = utf8(h.linkname);
    if (name.length > NAME_SIZE) parts.push(...rawFile("././@LongLink", concat([name, new Uint8Array(1)]), "L", true));
    if (link.length > NAME_SIZE) parts.push(...rawFile("././@LongLink", concat([link, new Uint8Array(1)]), "K", true));
    parts.push(setFormat(templateBlock(h, flag, mtimeSec, (s) => s, formatNumeric), true));
    return concat(parts);
  }
  throw invalidTar(`${h.name}: no tar format (USTAR, PAX${format === "unknown" ? ", GNU" : ""}) can encode this header`);
}

/** Zero bytes that pad an entry's data to a whole block. */
export function padding(size: number): number {
  return padded(size) - size;
}
