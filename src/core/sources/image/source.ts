import { BuildkitError } from "../../errors.ts";
import { sha256, type Digest } from "../../digest.ts";
import type { pb } from "../../pb/index.ts";
import type { ContentIndex } from "../../content/index-db.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import { blobSize, storeWhileReading, writeBlob } from "../../content/blobs.ts";
import { compressionOfMediaType } from "../../image/compression.ts";
import { normalizeImageRef, parseImageRef } from "../../reference/docker-ref.ts";
import type { Descriptor } from "../../image/oci-types.ts";
import { applyLayer } from "../../image/layer-apply.ts";
import type { Platform } from "../../llb/platform.ts";
import { normalizePlatform } from "../../cache/remote/buildkit-cache-map.ts";
import type { RegistryClient } from "../../registry/index.ts";
import type { ResolvedImage } from "../../registry/pull.ts";
import type { OpAdapter, OpContext } from "../../solver/op.ts";
import { commitMutable, discard, prepareMutable } from "../../worker/snapshots.ts";
import type { SourceDeps } from "../source.ts";
import { keepResolved, resolveFromStore } from "./local-resolve.ts";
import { parseResolveModeAttr, resolveByMode } from "./resolve-mode.ts";
import type { ResolveMode } from "../../llb/index.ts";
import { countBytes } from "../../progress/count-bytes.ts";

export interface ImageDeps extends SourceDeps {
  /** Made on first use: a pinned image whose blobs are kept resolves without it. */
  readonly registry: () => Promise<RegistryClient>;
  readonly content: ContentStore;
  /** Where pulled layers are recorded: exports reuse their blobs, pushes mount them. */
  readonly index: ContentIndex;
}

/**
 * `docker-image://REF`: a registry image. Its cache key is the digest the reference resolves
 * to for the op's platform, so a moved tag rebuilds and an unmoved one does not. Layers are
 * stacked snapshots named by their chain ID: a layer already present is never downloaded or
 * applied again; missing ones download in parallel (verified while streaming) and are
 * applied in order. A digest-pinned ref whose manifest and config were kept resolves locally.
 */
export function imageSource(op: pb.SourceOp.$Properties, platform: Platform, deps: ImageDeps): OpAdapter {
  const ref = (op.identifier ?? "").slice("docker-image://".length);
  const mode = parseResolveModeAttr(op.attrs?.["image.resolvemode"]);
  const limit = parseLayerLimit(op.attrs?.["image.layerlimit"]);
  let resolving: Promise<ResolvedImage> | undefined;
  const resolve = (ctx: OpContext) => {
    resolving ??= resolveImage(ref, platform, mode, deps, ctx.signal).catch((err: unknown) => {
      resolving = undefined;
      throw err;
    });
    return resolving;
  };
  return {
    async contentKey(ctx) {
      const image = await resolve(ctx);
      return image.digest;
    },
    async remoteKeys(ctx) {
      return buildkitImageKeys(limited(await resolve(ctx), limit), platform, limit);
    },
    // As BuildKit's identifier writes the reference (normalized, ":latest" when untagged), pinned
    // to the digest it resolved to (the index's, if any).
    async provenance(ctx) {
      const image = await resolve(ctx);
      return { type: "docker-image", ref: normalizeImageRef(ref), platform, digest: image.indexDigest ?? image.digest };
    },
    async exec(_inputs, ctx) {
      const image = limited(await resolve(ctx), limit);
      const name = await unpack(image, deps, ctx);
      return [deps.refs.ref(name)];
    },
  };
}

/**
 * A pinned ref whose blobs are local resolves without the network, whatever the mode (BuildKit's
 * puller tries the content store first too); else as the mode says (resolve-mode.ts), and what
 * the registry answered is kept.
 */
async function resolveImage(ref: string, platform: Platform, mode: ResolveMode, deps: ImageDeps, signal: AbortSignal): Promise<ResolvedImage> {
  const local = await resolveFromStore(deps.content, ref, platform);
  if (local !== undefined) return local;
  const resolving = resolveByMode(ref, platform, mode, { registry: deps.registry, content: deps.content, root: deps.worker.root }, signal);
  // What resolves is kept below, in the content index: its database (a few ms to open, more to
  // create, synchronously) is opened now, while the registry answers the request just sent.
  let index: ContentIndex;
  try {
    index = deps.index;
  } catch (err) {
    resolving.catch(() => undefined); // its outcome no longer matters
    throw err;
  }
  const { image, from } = await resolving;
  if (from === "image-store") return image; // named there: its blobs are already kept
  const diffIDs = image.config.rootfs.diff_ids;
  if (diffIDs.length > 0) await keepResolved(deps.content, index, image, `layer-${chainIDs(diffIDs).at(-1)}`);
  return image;
}

/** `image.layerlimit`: the image's first N layers only (N > 0), as BuildKit's identifier reads it. */
function parseLayerLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^[+-]?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new BuildkitError("InvalidArgument", `invalid layer limit ${value}`);
  if (n <= 0) throw new BuildkitError("InvalidArgument", `invalid layer limit ${value}`);
  return n;
}

/** The image cut to its first `limit` layers (manifest and config alike); the image itself without a limit. */
function limited(image: ResolvedImage, limit: number | undefined): ResolvedImage {
  if (limit === undefined) return image;
  const layers = image.manifest.layers;
  if (limit > layers.length) throw new BuildkitError("InvalidArgument", `layer limit ${limit} is greater than the number of layers in the image ${layers.length}`);
  const diffIDs = image.config.rootfs.diff_ids;
  if (diffIDs.length < limit) throw new BuildkitError("InvalidArgument", `image has ${diffIDs.length} layers, limit is ${limit}`);
  return {
    ...image,
    manifest: { ...image.manifest, layers: layers.slice(0, limit) },
    config: { ...image.config, rootfs: { ...image.config.rootfs, diff_ids: diffIDs.slice(0, limit) } },
  };
}

/**
 * BuildKit's keys for a pulled image (source/containerimage/pull.go): index 0 hashes the
 * manifest the ref resolved to (the index, when it named one) with the platform and any layer
 * limit, as Go's json.Marshal writes it; index 1 is the chain ID of the config's (kept) layers.
 */
function buildkitImageKeys(image: ResolvedImage, platform: Platform, limit: number | undefined): string[] {
  const p = normalizePlatform(platform);
  const variant = p.variant ? `,"Variant":${JSON.stringify(p.variant)}` : "";
  const limitField = limit === undefined ? "" : `,"Limit":${limit}`;
  const keys: string[] = [sha256(`{"Digest":"${image.indexDigest ?? image.digest}","OS":${JSON.stringify(p.os)},"Arch":${JSON.stringify(p.architecture)}${variant}${limitField}}`)];
  const diffIDs = image.config.rootfs.diff_ids;
  if (image.config.rootfs.type === "layers" && diffIDs.length > 0) keys.push(chainIDs(diffIDs).at(-1)!);
  return keys;
}

/** OCI chain IDs: the identity of a stack of layers. */
function chainIDs(diffIDs: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIDs) out.push(out.length === 0 ? d : sha256(`${out[out.length - 1]} ${d}`));
  return out;
}

async function unpack(image: ResolvedImage, deps: ImageDeps, ctx: OpContext): Promise<string> {
  const layers = image.manifest.layers;
  const diffIDs = image.config.rootfs.diff_ids;
  if (layers.length !== diffIDs.length) {
    throw new BuildkitError("InvalidArgument", `image ${image.ref}: ${layers.length} layers but ${diffIDs.length} diff IDs in its config`);
  }
  const names = chainIDs(diffIDs).map((c) => `layer-${c}`);
  let start = 0;
  while (start < names.length && (await deps.worker.snapshotter.stat(names[start]!))?.kind === "committed") start++;
  // Download what is missing, all at once; apply in order as each is there. The first missing
  // layer is unpacked while it downloads (its blob stored on the way), the others from the store.
  const blobs = layers.map((l, i) => (i <= start ? undefined : fetchBlob(image, l, deps, ctx)));
  // Awaited in order below; a failure before then must not surface as an unhandled rejection.
  for (const b of blobs) b?.catch(() => undefined);
  let parent = start > 0 ? names[start - 1] : undefined;
  for (let i = start; i < layers.length; i++) {
    const layer = layers[i]!;
    let bytes: LayerBytes;
    if (i === start) bytes = await downloadingLayer(image, layer, deps, ctx);
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

function storedLayer(deps: ImageDeps, layer: Descriptor): LayerBytes {
  return { stream: deps.content.read(layer.digest), done: async () => {}, abort: async () => {} };
}

/**
 * The layer's bytes as they download, stored in the content store chunk by chunk before the
 * unpacking reads them: unpacking no longer waits for the whole download. The snapshot is
 * committed only after done(), i.e. once the blob is whole and matches its digest (the diffID is
 * checked as before); until then it is an active snapshot, discarded on any failure.
 */
async function downloadingLayer(image: ResolvedImage, layer: Descriptor, deps: ImageDeps, ctx: OpContext): Promise<LayerBytes> {
  if ((await blobSize(deps.content, layer.digest)) === layer.size) return storedLayer(deps, layer);
  const repo = repositoryOf(image);
  const stream = await (await deps.registry()).fetchBlob(repo, layer, ctx.signal);
  const counted = countBytes(stream, (done) => ctx.progress.status(layer.digest, done, layer.size));
  const storing = await storeWhileReading(deps.content, layer.digest, counted, { signal: ctx.signal });
  return {
    stream: storing.stream,
    async done() {
      await storing.done();
      deps.index.addSource(layer.digest, parseImageRef(repo));
      ctx.progress.status(layer.digest, layer.size, layer.size, true);
    },
    abort: () => storing.abort(),
  };
}

async function fetchBlob(image: ResolvedImage, layer: Descriptor, deps: ImageDeps, ctx: OpContext): Promise<void> {
  if ((await blobSize(deps.content, layer.digest)) === layer.size) return;
  const repo = repositoryOf(image);
  const stream = await (await deps.registry()).fetchBlob(repo, layer, ctx.signal);
  const counted = countBytes(stream, (done) => ctx.progress.status(layer.digest, done, layer.size));
  await writeBlob(deps.content, layer.digest, counted, { signal: ctx.signal });
  deps.index.addSource(layer.digest, parseImageRef(repo));
  ctx.progress.status(layer.digest, layer.size, layer.size, true);
}

function repositoryOf(image: ResolvedImage): string {
  return image.ref.slice(0, image.ref.lastIndexOf("@"));
}

async function applyOne(layer: Descriptor, diffID: Digest, name: string, parent: string | undefined, deps: ImageDeps, ctx: OpContext, bytes: LayerBytes): Promise<string> {
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
