/**
 * A build result as image layers. The result snapshot's parent chain, base first, gives one
 * layer per snapshot: the diff between the snapshot and its parent (the base against nothing),
 * written as an OCI layer tar by writeLayer, compressed, into the worker's content store. An
 * empty diff gives no layer (its history entry says empty_layer), as BuildKit does.
 *
 * Blobs are remembered in the content index by (snapshot, compression, level): a committed
 * snapshot never changes, so exporting the same result again reuses them without diffing or
 * compressing anything. As BuildKit does, a snapshot that already has a blob (a pulled layer,
 * or the first export's) keeps it whatever compression is asked for, unless the export forces
 * its compression: then that first blob is converted (decompressed, recompressed), which keeps
 * its diffID, where diffing the snapshot again would write a different tar.
 */
import { sha256 } from "../digest.ts";
import type { Digest } from "../digest.ts";
import { BuildkitError, withContext } from "../errors.ts";
import type { Compression } from "./compression.ts";
import { decompressStream } from "./compression.ts";
import { streamSink } from "./byte-sink.ts";
import { ChunkCompressor } from "./chunk-compressor.ts";
import { writeLayer } from "./layer-write.ts";
import { withView } from "../worker/snapshots.ts";
import { isDeletionCarrier } from "../worker/deletion-carrier.ts";
import type { Worker } from "../worker/worker.ts";
import type { ContentIndex, LayerKey, LayerRecord } from "../content/index-db.ts";
import type { ContentStore } from "../worker/content-store.ts";
import { blobSize, writerSink } from "../content/blobs.ts";

/** The diffID of an empty layer: a tar of nothing but its two zero end blocks. */
export const EMPTY_DIFF_ID: Digest = sha256(new Uint8Array(1024));

export interface LayerOptions {
  readonly compression: Compression;
  /** Compression level; undefined for the compressor's default. */
  readonly level?: number;
  /** Every layer in this compression: existing blobs in another one are converted (force-compression). */
  readonly force?: boolean;
  readonly signal: AbortSignal;
}

/** How an export wants its layers: what image and inline cache exports agree on. */
export type LayerChoice = Pick<LayerOptions, "compression" | "level" | "force">;

export interface ChainLayer {
  readonly snapshot: string;
  /** The vertex that made the snapshot, else "buildkit-ts". */
  readonly createdBy: string;
  /** The layer blob (in the content store) and its compression; undefined when the diff was empty. */
  readonly blob?: { readonly digest: Digest; readonly diffID: Digest; readonly size: number; readonly compression: Compression };
  /** True when the blob came from the content index rather than being written now. */
  readonly reused: boolean;
}

/** The parts of a build result its layers come from. */
export interface LayeredResult {
  readonly worker?: Worker;
  /** The result's committed snapshot; undefined for an empty (scratch) result. */
  readonly snapshot?: string;
  /** What made a snapshot (its vertex name), for image history. */
  describe?(snapshot: string): string | undefined;
}

export interface LayerContext {
  readonly store: ContentStore;
  readonly index: ContentIndex;
}

/** The layers of result, base first; none for an empty (scratch) result. */
export async function resultLayers(result: LayeredResult, ctx: LayerContext, opts: LayerOptions): Promise<ChainLayer[]> {
  if (result.snapshot === undefined) return [];
  const worker = result.worker;
  if (!worker) throw new BuildkitError("FailedPrecondition", "reading result layers: the result's worker is not available");
  const chain = await parentChain(worker, result.snapshot);
  const layers: ChainLayer[] = [];
  for (const [snapshot, parent] of chain) {
    opts.signal.throwIfAborted();
    const { record, compression, reused } = await snapshotLayer(worker, ctx, { snapshot, parent }, opts);
    const createdBy = result.describe?.(snapshot) ?? "buildkit-ts";
    layers.push({ snapshot, createdBy, reused, ...(record.empty ? {} : { blob: { digest: record.digest, diffID: record.diffID, size: record.size, compression } }) });
  }
  return layers;
}

/**
 * [snapshot, parent] pairs from the base up to name. A diff's deletion carrier is no layer of
 * its own: the diff above it is diffed against what is below the carrier (nothing), so it
 * exports the layer it did before it carried deletions.
 */
async function parentChain(worker: Worker, name: string): Promise<Array<[string, string | undefined]>> {
  const chain: Array<[string, string | undefined]> = [];
  for (let current: string | undefined = name; current !== undefined; ) {
    const info = await worker.snapshotter.stat(current);
    if (!info) throw new BuildkitError("NotFound", `reading result layers: snapshot ${JSON.stringify(current)} not found`);
    const last = chain.at(-1);
    if (isDeletionCarrier(current) && last) last[1] = info.parent;
    else chain.push([current, info.parent]);
    current = info.parent;
  }
  return chain.reverse();
}

type SnapshotLayer = { record: LayerRecord; compression: Compression; reused: boolean };

async function snapshotLayer(worker: Worker, ctx: LayerContext, p: { snapshot: string; parent: string | undefined }, opts: LayerOptions): Promise<SnapshotLayer> {
  const key: LayerKey = { snapshot: p.snapshot, compression: opts.compression, level: opts.level ?? 0 };
  const reuse = (record: LayerKey & LayerRecord): SnapshotLayer => {
    ctx.index.hit(record);
    return { record, compression: record.compression, reused: true };
  };
  // The snapshot's own blob, in whatever compression (and level) it was made or pulled with.
  const first = ctx.index.firstLayer(p.snapshot);
  const usable = first && (await present(ctx, first)) ? first : undefined;
  if (usable && (usable.empty || !opts.force || usable.compression === opts.compression)) return reuse(usable);
  // Forced (or that blob is gone): one made before in this compression, else one made now,
  // converted from the snapshot's blob or diffed.
  const variant = ctx.index.layer(key);
  if (variant && (await present(ctx, variant))) return reuse({ ...key, ...variant });
  const record = usable ? await convertLayer(ctx.store, usable, opts) : await diffLayer(worker, ctx.store, p, opts);
  ctx.index.saveLayer(key, record);
  return { record, compression: key.compression, reused: false };
}

/** The record's blob is in the store, whole (an empty diff has none). */
async function present(ctx: LayerContext, record: LayerRecord): Promise<boolean> {
  return record.empty || (await blobSize(ctx.store, record.digest)) === record.size;
}

const compressorLevels = (opts: LayerOptions) => (opts.compression === "gzip" ? { gzipLevel: opts.level } : opts.compression === "zstd" ? { zstdLevel: opts.level } : {});

/**
 * The layer in blob `from`, recompressed into a new blob of the store in opts' compression. The
 * uncompressed bytes are the same, so the diffID must come out as recorded.
 */
async function convertLayer(store: ContentStore, from: LayerRecord, opts: LayerOptions): Promise<LayerRecord> {
  const writer = await store.writer({ signal: opts.signal });
  const compressor = new ChunkCompressor(opts.compression, streamSink(writerSink(writer)), compressorLevels(opts));
  try {
    const { stream } = await decompressStream(store.read(from.digest, { signal: opts.signal }));
    for await (const chunk of stream) {
      opts.signal.throwIfAborted();
      await compressor.write(chunk);
    }
    const written = await compressor.end();
    if (written.diffID !== from.diffID) {
      throw new BuildkitError("FailedPrecondition", `layer blob ${from.digest} holds ${written.diffID}, not the recorded ${from.diffID}`);
    }
    await writer.commit({ digest: written.digest, size: written.size });
    return { digest: written.digest, diffID: written.diffID, size: written.size, empty: false };
  } catch (err) {
    await compressor.abort(err).catch(() => undefined);
    await writer.abort().catch(() => undefined);
    throw withContext(`converting layer ${from.digest} to ${opts.compression}`, err);
  }
}

/**
 * Diffs the snapshot against its parent, streaming the compressed layer into a new blob of the
 * store (an empty diff is not stored: images leave it out).
 */
async function diffLayer(worker: Worker, store: ContentStore, p: { snapshot: string; parent: string | undefined }, opts: LayerOptions): Promise<LayerRecord> {
  const writer = await store.writer({ signal: opts.signal });
  const levels = compressorLevels(opts);
  try {
    const written = await withView(worker, p.parent, (lower) =>
      withView(worker, p.snapshot, (upper) => writeLayer({ lower, upper }, writerSink(writer), opts.compression, { ...levels, signal: opts.signal })),
    );
    const empty = written.diffID === EMPTY_DIFF_ID;
    if (empty) await writer.abort();
    else await writer.commit({ digest: written.digest, size: written.size });
    return { digest: written.digest, diffID: written.diffID, size: written.size, empty };
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
}
