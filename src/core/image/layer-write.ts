/**
 * Writing a layer: the changes of an overlayfs upper directory (layer-walk.ts) or between two
 * full trees (layer-diff.ts), as a deterministic OCI layer tar (tar-writer.ts), compressed in
 * parallel (chunk-compressor.ts) and streamed to a file or a WritableStream, with the blob
 * digest and the diffID computed in the same pass. The same tree always gives the same bytes:
 * sorted entries, no atime/ctime, no user or group names, fixed whiteout headers, fixed
 * compression chunking.
 */
import { stat } from "node:fs/promises";
import { BuildkitError } from "../errors.ts";
import { toFsError } from "../fs/fs-error.ts";
import type { Digest } from "../digest.ts";
import { fileSink, streamSink } from "./byte-sink.ts";
import { ChunkCompressor } from "./chunk-compressor.ts";
import type { CompressorOptions } from "./chunk-compressor.ts";
import { layerMediaType } from "./compression.ts";
import type { Compression } from "./compression.ts";
import { diffTrees } from "./layer-diff.ts";
import { walkUpper } from "./layer-walk.ts";
import { LayerTarWriter } from "./tar-writer.ts";

export type LayerSource =
  /** An overlayfs upper directory: whiteouts as char 0/0 devices, opaque dirs by xattr. */
  | { upperDir: string }
  /** Two full trees to compare. */
  | { lower: string; upper: string };

export interface WriteLayerOptions extends CompressorOptions {
  signal?: AbortSignal;
}

export interface WriteLayerResult {
  /** sha256 of the bytes written (the blob). */
  digest: Digest;
  /** sha256 of the uncompressed tar. */
  diffID: Digest;
  /** Bytes written. */
  size: number;
  /** Bytes of the uncompressed tar. */
  uncompressedSize: number;
  mediaType: string;
}

function changesOf(source: LayerSource) {
  return "upperDir" in source ? walkUpper(source.upperDir) : diffTrees(source.lower, source.upper);
}

/** The source directories must exist before anything is written. */
async function checkSource(source: LayerSource): Promise<void> {
  for (const dir of "upperDir" in source ? [source.upperDir] : [source.lower, source.upper]) {
    const st = await stat(dir).catch((err: unknown) => Promise.reject(layerError(err, dir)));
    if (!st.isDirectory()) throw new BuildkitError("InvalidArgument", `writing layer: ${dir}: not a directory`);
  }
}

function layerError(err: unknown, subject?: string): BuildkitError {
  const inner = toFsError(err, subject);
  return new BuildkitError(inner.code, `writing layer: ${inner.message}`, { cause: err });
}

/**
 * Writes the layer to `out` (a file path, created or truncated, removed on failure; or a
 * stream, aborted on failure).
 */
export async function writeLayer(
  source: LayerSource,
  out: WritableStream<Uint8Array> | string,
  compression: Compression,
  opts: WriteLayerOptions = {},
): Promise<WriteLayerResult> {
  const { signal } = opts;
  if (signal?.aborted) throw new BuildkitError("Canceled", "writing layer: canceled");
  await checkSource(source);
  const sink = typeof out === "string" ? await fileSink(out).catch((err: unknown) => Promise.reject(layerError(err))) : streamSink(out);
  const compressor = new ChunkCompressor(compression, sink, opts);
  try {
    const tar = new LayerTarWriter(compressor);
    for await (const change of changesOf(source)) {
      if (signal?.aborted) throw new BuildkitError("Canceled", "canceled");
      await tar.add(change);
    }
    await tar.end();
    const result = await compressor.end();
    return { ...result, mediaType: layerMediaType(compression) };
  } catch (err) {
    await compressor.abort(err).catch(() => {});
    throw layerError(err);
  }
}
