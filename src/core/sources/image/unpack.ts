/**
 * Unpacking a resolved image into snapshots, wherever its layer blobs come from (a registry, a
 * client's OCI layout): layers are stacked snapshots named by their chain ID, so a layer already
 * present is never fetched or applied again; missing ones are fetched at once (verified while
 * streaming) and applied in order. The first missing layer is unpacked while it arrives, its blob
 * stored on the way; the others are stored first and read back.
 */
import { BuildkitError } from "../../errors.ts";
import { sha256, type Digest } from "../../digest.ts";
import type { ContentIndex } from "../../content/index-db.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import { blobSize, storeWhileReading, writeBlob } from "../../content/blobs.ts";
import { compressionOfMediaType } from "../../image/compression.ts";
import type { Descriptor } from "../../image/oci-types.ts";
import { applyLayer } from "../../image/layer-apply.ts";
import type { ResolvedImage } from "../../registry/pull.ts";
import type { OpContext } from "../../solver/op.ts";
import { commitMutable, discard, prepareMutable } from "../../worker/snapshots.ts";
import type { SourceDeps } from "../source.ts";
import { countBytes } from "../../progress/count-bytes.ts";

export interface UnpackDeps extends SourceDeps {
  readonly content: ContentStore;
  /** Where applied layers are recorded: exports reuse their blobs. */
  readonly index: ContentIndex;
}

/** Where the layer blobs the worker's content store lacks come from. */
export interface LayerProvider {
  /** The blob's bytes, verified against the descriptor's digest and size while streaming. */
  fetch(layer: Descriptor, signal: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /** After the blob is stored whole: a registry remembers its repository (pushes mount from there). */
  stored?(layer: Descriptor): void;
}

/** OCI chain IDs: the identity of a stack of layers. */
export function chainIDs(diffIDs: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIDs) out.push(out.length === 0 ? d : sha256(`${out[out.length - 1]} ${d}`));
  return out;
}

/** The snapshot of the image's top layer (an empty one for an image without layers). */
export async function unpack(image: ResolvedImage, provider: LayerProvider, deps: UnpackDeps, ctx: OpContext): Promise<string> {
  const layers = image.manifest.layers;
  const diffIDs = image.config.rootfs.diff_ids;
  if (layers.length !== diffIDs.length) {
    throw new BuildkitError("InvalidArgument", `image ${image.ref}: ${layers.length} layers but ${diffIDs.length} diff IDs in its config`);
  }
  const names = chainIDs(diffIDs).map((c) => `layer-${c}`);
  let start = 0;
  while (start < names.length && (await deps.worker.snapshotter.stat(names[start]!))?.kind === "committed") start++;
  const blobs = layers.map((l, i) => (i <= start ? undefined : fetchBlob(l, provider, deps, ctx)));
  // Awaited in order below; a failure before then must not surface as an unhandled rejection.
  for (const b of blobs) b?.catch(() => undefined);
  let parent = start > 0 ? names[start - 1] : undefined;
  for (let i = start; i < layers.length; i++) {
    const layer = layers[i]!;
    let bytes: LayerBytes;
    if (i === start) bytes = await downloadingLayer(layer, provider, deps, ctx);
    else {
      await blobs[i];
      bytes = storedLayer(deps, layer);
    }
    parent = await applyOne(layer, diffIDs[i]!, names[i]!, parent, deps, ctx, bytes);
  }
  if (parent === undefined) {
    // An image with no layers is an empty filesystem.
    const empty = await prepareMutable(deps.worker);
    return commitMutable(deps.worker, empty);
  }
  return parent;
}

/** A layer's compressed bytes as applyOne reads them. */
interface LayerBytes {
  readonly stream: ReadableStream<Uint8Array>;
  /** After the layer is applied and before its snapshot is committed: a download is finished and checked. */
  done(): Promise<void>;
  /** After a failure: a download is stopped and its partial blob dropped. */
  abort(): Promise<void>;
}

function storedLayer(deps: UnpackDeps, layer: Descriptor): LayerBytes {
  return { stream: deps.content.read(layer.digest), done: async () => {}, abort: async () => {} };
}

/**
 * The layer's bytes as they arrive, stored in the content store chunk by chunk before the
 * unpacking reads them: unpacking no longer waits for the whole download. The snapshot is
 * committed only after done(), i.e. once the blob is whole and matches its digest (the diffID is
 * checked as before); until then it is an active snapshot, discarded on any failure.
 */
async function downloadingLayer(layer: Descriptor, provider: LayerProvider, deps: UnpackDeps, ctx: OpContext): Promise<LayerBytes> {
  if ((await blobSize(deps.content, layer.digest)) === layer.size) return storedLayer(deps, layer);
  const stream = await provider.fetch(layer, ctx.signal);
  const counted = countBytes(stream, (done) => ctx.progress.status(layer.digest, done, layer.size));
  const storing = await storeWhileReading(deps.content, layer.digest, counted, { signal: ctx.signal });
  return {
    stream: storing.stream,
    async done() {
      await storing.done();
      provider.stored?.(layer);
      ctx.progress.status(layer.digest, layer.size, layer.size, true);
    },
    abort: () => storing.abort(),
  };
}

async function fetchBlob(layer: Descriptor, provider: LayerProvider, deps: UnpackDeps, ctx: OpContext): Promise<void> {
  if ((await blobSize(deps.content, layer.digest)) === layer.size) return;
  const stream = await provider.fetch(layer, ctx.signal);
  const counted = countBytes(stream, (done) => ctx.progress.status(layer.digest, done, layer.size));
  await writeBlob(deps.content, layer.digest, counted, { signal: ctx.signal });
  provider.stored?.(layer);
  ctx.progress.status(layer.digest, layer.size, layer.size, true);
}

async function applyOne(layer: Descriptor, diffID: Digest, name: string, parent: string | undefined, deps: UnpackDeps, ctx: OpContext, bytes: LayerBytes): Promise<string> {
  const { worker } = deps;
  let mut: Awaited<ReturnType<typeof prepareMutable>>;
  try {
    mut = await prepareMutable(worker, parent);
  } catch (err) {
    await bytes.abort();
    throw err;
  }
  try {
    const result = await worker.withMounted(mut.mounts, (dir) =>
      applyLayer(bytes.stream, dir, { mediaType: layer.mediaType, signal: ctx.signal }),
    );
    await bytes.done();
    if (result.diffID !== diffID) {
      throw new BuildkitError("InvalidArgument", `layer ${layer.digest}: uncompressed content is ${result.diffID}, the image config says ${diffID}`);
    }
    ctx.progress.status(`extracting ${layer.digest}`, 1, 1, true);
    await worker.snapshotter.commit(name, mut.key);
    // Exporting this snapshot as a layer can reuse the pulled blob as it is.
    const compression = compressionOfMediaType(layer.mediaType);
    if (compression) deps.index.saveLayer({ snapshot: name, compression, level: 0 }, { digest: layer.digest, diffID, size: layer.size, empty: false });
    return name;
  } catch (err) {
    await bytes.abort();
    await discard(worker, [mut.key]);
    // Another build applied the same layer meanwhile: use theirs.
    if ((await worker.snapshotter.stat(name))?.kind === "committed") return name;
    throw err;
  }
}
