/**
 * A streaming tar reader: headers one at a time, each entry's data as chunks that are
 * subarrays of the source's chunks (no copy, nothing whole in memory). Every byte of the
 * source, trailing zero blocks included, goes to `onBytes` once, so a hash of the
 * uncompressed stream (the diffID) comes out of the same pass. PAX and GNU long-name
 * headers are bounded before they are read, so a hostile archive cannot make us buffer it.
 */
import { BuildkitError } from "../errors.ts";
import {
  BLOCK,
  decodeText,
  entryType,
  invalidTar,
  isZeroBlock,
  padding,
  parsePax,
  parsePaxTime,
  readNumber,
  readString,
  verifyChecksum,
} from "./tar-header.ts";
import type { TarHeader } from "./tar-header.ts";

export interface TarLimits {
  /** Largest PAX extended header accepted, in bytes (default 1 MiB). */
  maxPaxSize: number;
  /** Longest entry or link name accepted, in bytes (default 4096, PATH_MAX). */
  maxNameLength: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = { maxPaxSize: 1 << 20, maxNameLength: 4096 };

const NS = 1_000_000_000n;
const XATTR_PREFIX = "SCHILY.xattr.";

function readerOf(stream: ReadableStream<Uint8Array>) {
  return stream.getReader();
}

/**
 * A failed read: BuildkitErrors (a network or digest failure upstream) pass through, anything
 * else is the decompressor refusing the data.
 */
function sourceError(err: unknown): never {
  if (err instanceof BuildkitError) throw err;
  const message = err instanceof Error ? err.message : String(err);
  throw new BuildkitError("InvalidArgument", `reading layer data: ${message}`, { cause: err });
}

/** Exact-length reads over a stream of chunks. */
class ByteReader {
  readonly #source: ReturnType<typeof readerOf>;
  readonly #onBytes: (chunk: Uint8Array) => void;
  #chunk: Uint8Array = new Uint8Array(0);
  #pos = 0;

  constructor(source: ReadableStream<Uint8Array>, onBytes: (chunk: Uint8Array) => void) {
    this.#source = readerOf(source);
    this.#onBytes = onBytes;
  }

  /** Bytes available in the current chunk, pulling the next one when empty; 0 at the end. */
  async #available(): Promise<number> {
    while (this.#pos >= this.#chunk.length) {
      const r = await this.#source.read().catch(sourceError);
      if (r.done) return 0;
      this.#onBytes(r.value);
      this.#chunk = r.value;
      this.#pos = 0;
    }
    return this.#chunk.length - this.#pos;
  }

  /** Exactly `n` bytes; undefined when the stream ends before the first one. */
  async readExact(n: number): Promise<Uint8Array | undefined> {
    if ((await this.#available()) >= n) return this.#take(n);
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const avail = await this.#available();
      if (avail === 0) {
        if (filled === 0) return undefined;
        throw invalidTar("unexpected end of archive");
      }
      const part = this.#take(Math.min(avail, n - filled));
      out.set(part, filled);
      filled += part.length;
    }
    return out;
  }

  #take(n: number): Uint8Array {
    const part = this.#chunk.subarray(this.#pos, this.#pos + n);
    this.#pos += part.length;
    return part;
  }

  /** The next `n` bytes as chunks. */
  async *chunks(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      const avail = await this.#available();
      if (avail === 0) throw invalidTar("unexpected end of archive");
      const part = this.#take(Math.min(avail, left));
      left -= part.length;
      yield part;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.chunks(n));
  }

  /** Reads to the end of the stream (so every byte is hashed). */
  async drain(): Promise<void> {
    while ((await this.#available()) > 0) this.#pos = this.#chunk.length;
  }

  async cancel(reason: unknown): Promise<void> {
    await this.#source.cancel(reason).catch(() => {});
  }
}

/** Extension state gathered before an entry's own header. */
interface Pending {
  pax: Map<string, Uint8Array>;
  longName?: string;
  longLink?: string;
}

export class TarReader {
  readonly #bytes: ByteReader;
  readonly #limits: TarLimits;
  /** Unread data of the current entry, then its padding. */
  #dataLeft = 0;
  #padLeft = 0;
  #ended = false;

  constructor(source: ReadableStream<Uint8Array>, opts: { onBytes: (chunk: Uint8Array) => void; limits?: Partial<TarLimits> }) {
    this.#bytes = new ByteReader(source, opts.onBytes);
    this.#limits = { ...DEFAULT_TAR_LIMITS, ...opts.limits };
  }

  /** The next entry's header, undefined at the end of the archive. */
  async next(): Promise<TarHeader | undefined> {
    await this.#skipRest();
    if (this.#ended) return undefined;
    const pending: Pending = { pax: new Map() };
    for (;;) {
      const block = await this.#bytes.readExact(BLOCK);
      if (block === undefined || isZeroBlock(block)) {
        if (pending.pax.size > 0 || pending.longName !== undefined || pending.longLink !== undefined) {
          throw invalidTar("unexpected end of archive");
        }
        this.#ended = true;
        return undefined;
      }
      verifyChecksum(block);
      const header = await this.#extension(block, pending);
      if (header !== undefined) return header;
    }
  }

  /** The current entry's data; read it all or leave it to {@link next}, which skips the rest. */
  async *body(): AsyncGenerator<Uint8Array> {
    const n = this.#dataLeft;
    this.#dataLeft = 0;
    yield* this.#bytes.chunks(n);
  }

  /** Reads the rest of the stream (end-of-archive blocks, record padding). */
  async finish(): Promise<void> {
    await this.#skipRest();
    await this.#bytes.drain();
  }

  async cancel(reason: unknown): Promise<void> {
    await this.#bytes.cancel(reason);
  }

  async #skipRest(): Promise<void> {
    const n = this.#dataLeft + this.#padLeft;
    this.#dataLeft = 0;
    this.#padLeft = 0;
    if (n > 0) await this.#bytes.skip(n);
  }

  /** Consumes an extension header into `pending`, or returns the entry's merged header. */
  async #extension(block: Uint8Array, pending: Pending): Promise<TarHeader | undefined> {
    const flag = String.fromCharCode(block[156] ?? 0);
    const size = Number(readNumber(block, 124, 12));
    if (!Number.isSafeInteger(size) || size < 0) throw invalidTar(`entry size ${size} is invalid`);
    switch (flag) {
      case "x":
      case "g": {
        if (size > this.#limits.maxPaxSize) {
          throw invalidTar(`PAX header too large: ${size} bytes (limit ${this.#limits.maxPaxSize})`);
        }
        const records = parsePax(await this.#data(size));
        if (flag === "x") for (const [k, v] of records) pending.pax.set(k, v);
        return undefined;
      }
      case "L":
      case "K": {
        this.#checkName(size - 1);
        const name = readString(await this.#data(size), 0, size);
        if (flag === "L") pending.longName = name;
        else pending.longLink = name;
        return undefined;
      }
      default:
        return this.#entry(block, flag, size, pending);
    }
  }

  /** Reads an extension header's data and its padding. */
  async #data(size: number): Promise<Uint8Array> {
    const data = size === 0 ? new Uint8Array(0) : await this.#bytes.readExact(size);
    if (data === undefined) throw invalidTar("unexpected end of archive");
    await this.#bytes.skip(padding(size));
    return data;
  }

  #checkName(bytes: number): void {
    if (bytes > this.#limits.maxNameLength) {
      throw invalidTar(`name too long: ${bytes} bytes (limit ${this.#limits.maxNameLength})`);
    }
  }

  #entry(block: Uint8Array, flag: string, rawSize: number, pending: Pending): TarHeader {
    const type = entryType(flag);
    if (type === undefined) throw invalidTar(`unsupported entry type ${JSON.stringify(flag)}`);
    const pax = pending.pax;
    const text = (key: string): string | undefined => {
      const v = pax.get(key);
      return v === undefined ? undefined : decodeText(v);
    };
    const num = (key: string, offset: number, length: number): number => {
      const v = text(key);
      const n = v === undefined ? Number(readNumber(block, offset, length)) : Number(v);
      if (!Number.isSafeInteger(n) || n < 0) throw invalidTar(`${key} ${JSON.stringify(v ?? String(n))} is invalid`);
      return n;
    };
    const name = text("path") ?? pending.longName ?? ustarName(block);
    const linkname = text("linkpath") ?? pending.longLink ?? readString(block, 157, 100);
    this.#checkName(Buffer.byteLength(name));
    this.#checkName(Buffer.byteLength(linkname));
    const mtime = text("mtime");
    const atime = text("atime");
    const size = text("size") === undefined ? rawSize : num("size", 124, 12);
    const header: TarHeader = {
      name,
      type,
      mode: Number(readNumber(block, 100, 8)) & 0o7777,
      uid: num("uid", 108, 8),
      gid: num("gid", 116, 8),
      size: type === "file" ? size : 0,
      mtimeNs: mtime === undefined ? readNumber(block, 136, 12) * NS : parsePaxTime(mtime),
      linkname,
      devmajor: Number(readNumber(block, 329, 8)),
      devminor: Number(readNumber(block, 337, 8)),
      xattrs: [...pax].filter(([k]) => k.startsWith(XATTR_PREFIX)).map(([k, v]) => [k.slice(XATTR_PREFIX.length), v]),
    };
    if (atime !== undefined) header.atimeNs = parsePaxTime(atime);
    // Header-only types carry no data whatever their size field says (as Go's reader).
    this.#dataLeft = header.size;
    this.#padLeft = padding(header.size);
    return header;
  }
}

/** The ustar name, joined with the prefix field in POSIX archives. */
function ustarName(block: Uint8Array): string {
  const name = readString(block, 0, 100);
  const posix = readString(block, 257, 6) === "ustar";
  const prefix = posix ? readString(block, 345, 155) : "";
  return prefix === "" ? name : `${prefix}/${name}`;
}
