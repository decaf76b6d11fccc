/**
 * Layer compression: what a media type or the first bytes say, and streaming decompression.
 *
 * Decompression uses Bun's native `DecompressionStream` for both formats ("gzip" and Bun's
 * "zstd" extension): it reads multi-member gzip and multi-frame zstd (what our parallel
 * compressor writes, and what pigz writes) and measured 1.5-2× faster than node:zlib's
 * streams here (100 MB: gzip 0.60 s vs 0.89 s, zstd 0.16 s vs 0.32 s). No subprocess.
 * Compression is in chunk-compressor.ts.
 */
import { BuildkitError } from "../errors.ts";

export type Compression = "gzip" | "zstd" | "uncompressed";

export const COMPRESSIONS: readonly Compression[] = ["gzip", "zstd", "uncompressed"];

/** The compression a `compression=` value names; undefined for none we make. */
export function compressionNamed(value: string): Compression | undefined {
  return COMPRESSIONS.find((c) => c === value);
}

const LEVELS: Readonly<Record<Compression, readonly [number, number]>> = { gzip: [0, 9], zstd: [1, 22], uncompressed: [0, 0] };

/**
 * A `compression-level=` value for compression, as image and cache exporters take it:
 * undefined when not given or uncompressed; a value that is not an integer or out of the
 * compressor's range throws, worded for the caller to put its flag before.
 */
export function parseCompressionLevel(compression: Compression, value: string | undefined): number | undefined {
  if (value === undefined || compression === "uncompressed") return undefined;
  if (!/^-?\d+$/.test(value)) throw new Error(`compression-level must be an integer, not "${value}"`);
  const level = Number(value);
  const [min, max] = LEVELS[compression];
  if (level < min || level > max) throw new Error(`compression-level for ${compression} must be ${min} to ${max}, not ${level}`);
  return level;
}

const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";

const MEDIA_TYPES: Readonly<Record<Compression, string>> = {
  uncompressed: OCI_LAYER,
  gzip: `${OCI_LAYER}+gzip`,
  zstd: `${OCI_LAYER}+zstd`,
};

/** Layer media types that are not OCI ones but name their compression all the same. */
const DOCKER_TYPES: ReadonlyMap<string, Compression> = new Map([
  ["application/vnd.docker.image.rootfs.diff.tar", "uncompressed"],
  ["application/vnd.docker.image.rootfs.diff.tar.gzip", "gzip"],
  ["application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "gzip"],
  ["application/vnd.docker.image.rootfs.diff.tar.zstd", "zstd"],
]);

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const MAGIC_BYTES = 4;

const DOCKER_MEDIA_TYPES: Readonly<Record<Compression, string>> = {
  uncompressed: "application/vnd.docker.image.rootfs.diff.tar",
  gzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  zstd: "application/vnd.docker.image.rootfs.diff.tar.zstd",
};

/** The layer media type for a compression: OCI's, or Docker schema2's (oci false). */
export function layerMediaType(compression: Compression, oci = true): string {
  return (oci ? MEDIA_TYPES : DOCKER_MEDIA_TYPES)[compression];
}

/** The compression a layer media type names (OCI, non-distributable, Docker); undefined if none. */
export function compressionOfMediaType(mediaType: string): Compression | undefined {
  const docker = DOCKER_TYPES.get(mediaType);
  if (docker !== undefined) return docker;
  if (!/^application\/vnd\.oci\.image\.layer\.(nondistributable\.)?v1\.tar/.test(mediaType)) return undefined;
  if (mediaType.endsWith(".tar")) return "uncompressed";
  if (mediaType.endsWith("+gzip")) return "gzip";
  if (mediaType.endsWith("+zstd")) return "zstd";
  return undefined;
}

function startsWith(head: Uint8Array, magic: readonly number[]): boolean {
  return head.length >= magic.length && magic.every((b, i) => head[i] === b);
}

/** Compression by magic bytes: gzip 1f 8b, zstd 28 b5 2f fd, anything else uncompressed. */
export function detectCompression(head: Uint8Array): Compression {
  if (startsWith(head, GZIP_MAGIC)) return "gzip";
  if (startsWith(head, ZSTD_MAGIC)) return "zstd";
  return "uncompressed";
}

function readerOf(stream: ReadableStream<Uint8Array>) {
  return stream.getReader();
}
type Reader = ReturnType<typeof readerOf>;

/** Bun's native decompressor; its lib typing wants non-shared buffers, which ours are. */
function decompressor(format: "gzip" | "zstd"): TransformStream<Uint8Array, Uint8Array> {
  return new DecompressionStream(format) as unknown as TransformStream<Uint8Array, Uint8Array>;
}

/** Reads until at least `n` bytes (or the end) have arrived. */
async function peek(reader: Reader, n: number): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  let have = 0;
  while (have < n) {
    const r = await reader.read();
    if (r.done) break;
    chunks.push(r.value);
    have += r.value.length;
  }
  return chunks;
}

function concatHead(chunks: readonly Uint8Array[], n: number): Uint8Array {
  const head = new Uint8Array(n);
  let pos = 0;
  for (const c of chunks) {
    if (pos >= n) break;
    const part = c.subarray(0, n - pos);
    head.set(part, pos);
    pos += part.length;
  }
  return head.subarray(0, pos);
}

/** `reader`'s stream again, with the peeked chunks first. */
function replay(head: Uint8Array[], reader: Reader): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const first = head.shift();
      if (first !== undefined) return controller.enqueue(first);
      const r = await reader.read();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * The uncompressed bytes of a layer. The magic bytes decide, as containerd's
 * DecompressStream does; a media type that names a compression the data does not have is an
 * error (an uncompressed layer labelled `+gzip` would otherwise fail later as a bad tar).
 */
export async function decompressStream(
  stream: ReadableStream<Uint8Array>,
  opts: { mediaType?: string } = {},
): Promise<{ stream: ReadableStream<Uint8Array>; compression: Compression }> {
  const reader = readerOf(stream);
  const chunks = await peek(reader, MAGIC_BYTES);
  const compression = detectCompression(concatHead(chunks, MAGIC_BYTES));
  const declared = opts.mediaType === undefined ? undefined : compressionOfMediaType(opts.mediaType);
  if (declared !== undefined && declared !== "uncompressed" && compression === "uncompressed") {
    await reader.cancel().catch(() => {});
    throw new BuildkitError("InvalidArgument", `data is not ${declared}-compressed (media type ${opts.mediaType})`);
  }
  const raw = replay(chunks, reader);
  if (compression === "uncompressed") return { stream: raw, compression };
  return { stream: raw.pipeThrough(decompressor(compression)), compression };
}
