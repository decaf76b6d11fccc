/**
 * Parallel, streaming layer compression, pigz-style. The uncompressed stream is cut into
 * fixed-size chunks (1 MiB); each chunk is compressed on its own by an asynchronous one-shot
 * call that runs on Bun's thread pool (node:zlib's gzip, Bun.zstdCompress), so several chunks
 * compress at once while the main thread goes on producing tar bytes. The results are
 * written in order:
 *
 * - gzip: each chunk is a complete gzip member; concatenated members are one valid gzip
 *   stream (RFC 1952 §2.2) that gzip -d, Go's compress/gzip and DecompressionStream read.
 * - zstd: each chunk is a complete frame; concatenated frames are one valid zstd stream.
 *
 * Output is deterministic: chunk boundaries depend only on the byte offset, never on how the
 * input arrived. A chunk only loses the 32 KiB gzip window of its predecessor: at 1 MiB that
 * cost 0.1% of size on /usr (0.3774 vs 0.3769).
 *
 * Both digests come out of the same pass: sha256 of the uncompressed bytes (the diffID) as
 * chunks are sealed, sha256 of the compressed bytes (the blob digest) as they are written.
 * Memory is bounded by `concurrency` chunks in flight.
 */
import { availableParallelism } from "node:os";
import zlib from "node:zlib";
import type { Digest } from "../digest.ts";
import type { ByteSink } from "./byte-sink.ts";
import type { Compression } from "./compression.ts";
import { isIncompressible } from "./incompressible.ts";

export interface CompressorOptions {
  /** Uncompressed bytes per gzip member / zstd frame (default 1 MiB). */
  chunkSize?: number;
  /** Chunks compressing at once (default: cores + 2). */
  concurrency?: number;
  /** gzip level (default 6, see DEFAULT_GZIP_LEVEL). */
  gzipLevel?: number;
  /** zstd level (default 3, zstd's own default). */
  zstdLevel?: number;
  /** gzip: store chunks that sampling finds incompressible (default true; incompressible.ts). */
  storeIncompressible?: boolean;
}

export interface CompressedResult {
  /** sha256 of the bytes written: the blob digest. */
  digest: Digest;
  /** sha256 of the uncompressed bytes. */
  diffID: Digest;
  /** Bytes written. */
  size: number;
  uncompressedSize: number;
}

/**
 * gzip level 6, zlib's and Go's default and so BuildKit's: in Bun's zlib, level 1 is a
 * "quick" deflate that made /usr 27% larger (ratio 0.48 vs 0.377), while level 6 on two cores
 * in parallel already beats BuildKit's single-threaded default by far. Registries store and
 * every pull downloads the bytes; the export is paid once.
 */
export const DEFAULT_GZIP_LEVEL = 6;
export const DEFAULT_ZSTD_LEVEL = 3;
const DEFAULT_CHUNK = 1 << 20;

type CompressFn = (chunk: Uint8Array) => Promise<Uint8Array>;

function compressFn(compression: Compression, opts: CompressorOptions): CompressFn {
  switch (compression) {
    case "gzip": {
      const level = opts.gzipLevel ?? DEFAULT_GZIP_LEVEL;
      const store = opts.storeIncompressible ?? true;
      return (chunk) => {
        const options = { level: store && level > 0 && isIncompressible(chunk) ? 0 : level };
        return new Promise((resolve, reject) => zlib.gzip(chunk, options, (err, out) => (err ? reject(err) : resolve(out))));
      };
    }
    case "zstd": {
      // Bun's own binding: 3-4× less overhead per chunk than node:zlib's zstdCompress here.
      const options = { level: opts.zstdLevel ?? DEFAULT_ZSTD_LEVEL };
      return (chunk) => Bun.zstdCompress(chunk, options);
    }
    case "uncompressed":
      return (chunk) => Promise.resolve(chunk);
    default: {
      const never: never = compression;
      throw new Error(`unknown compression ${String(never)}`);
    }
  }
}

function hex(hasher: Bun.CryptoHasher): Digest {
  return `sha256:${hasher.digest("hex")}` as Digest;
}

export class ChunkCompressor {
  readonly #sink: ByteSink;
  readonly #compress: CompressFn;
  readonly #chunkSize: number;
  readonly #concurrency: number;
  readonly #queue: Promise<Uint8Array>[] = [];
  readonly #raw = new Bun.CryptoHasher("sha256");
  /** Absent when uncompressed: the blob digest is the diffID. */
  readonly #out: Bun.CryptoHasher | undefined;
  #chunk: Uint8Array;
  #fill = 0;
  #sealed = 0;
  #rawSize = 0;
  #outSize = 0;

  constructor(compression: Compression, sink: ByteSink, opts: CompressorOptions = {}) {
    this.#sink = sink;
    this.#compress = compressFn(compression, opts);
    this.#chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
    this.#concurrency = Math.max(1, opts.concurrency ?? availableParallelism() + 2);
    this.#out = compression === "uncompressed" ? undefined : new Bun.CryptoHasher("sha256");
    this.#chunk = Buffer.allocUnsafe(this.#chunkSize);
  }

  /** Copies `data` in; the caller may reuse it once the promise resolves. */
  async write(data: Uint8Array): Promise<void> {
    let pos = 0;
    while (pos < data.length) {
      const n = Math.min(this.#chunkSize - this.#fill, data.length - pos);
      this.#chunk.set(data.subarray(pos, pos + n), this.#fill);
      this.#fill += n;
      pos += n;
      if (this.#fill === this.#chunkSize) await this.#seal();
    }
  }

  /** Flushes everything and closes the sink. */
  async end(): Promise<CompressedResult> {
    if (this.#fill > 0 || this.#sealed === 0) await this.#seal();
    while (this.#queue.length > 0) await this.#flushOne();
    await this.#sink.close();
    const diffID = hex(this.#raw);
    return {
      digest: this.#out === undefined ? diffID : hex(this.#out),
      diffID,
      size: this.#outSize,
      uncompressedSize: this.#rawSize,
    };
  }

  /** Waits for chunks in flight and aborts the sink. */
  async abort(reason: unknown): Promise<void> {
    await Promise.allSettled(this.#queue.splice(0));
    await this.#sink.abort(reason);
  }

  async #seal(): Promise<void> {
    const chunk = this.#chunk.subarray(0, this.#fill);
    this.#raw.update(chunk);
    this.#rawSize += chunk.length;
    const pending = this.#compress(chunk);
    pending.catch(() => {}); // awaited in order by #flushOne
    this.#queue.push(pending);
    this.#sealed++;
    this.#chunk = Buffer.allocUnsafe(this.#chunkSize);
    this.#fill = 0;
    while (this.#queue.length >= this.#concurrency) await this.#flushOne();
  }

  async #flushOne(): Promise<void> {
    const next = this.#queue.shift();
    if (next === undefined) return;
    const out = await next;
    this.#out?.update(out);
    this.#outSize += out.length;
    await this.#sink.write(out);
  }
}
