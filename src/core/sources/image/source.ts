import type { pb } from "../../pb/index.ts";
import type { ContentIndex } from "../../content/index-db.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import { normalizeImageRef, parseImageRef } from "../../reference/docker-ref.ts";
import type { Platform } from "../../llb/platform.ts";
import type { RegistryClient } from "../../registry/index.ts";
import type { ResolvedImage } from "../../registry/pull.ts";
import type { OpAdapter } from "../../solver/op.ts";
import type { SourceDeps } from "../source.ts";
import { keepResolved, resolveFromStore } from "./local-resolve.ts";
import { parseResolveModeAttr, resolveByMode } from "./resolve-mode.ts";
import type { ResolveMode } from "../../llb/index.ts";
import { parseLayerLimit, pulledImageAdapter } from "./pulled.ts";
import { chainIDs, type LayerProvider } from "./unpack.ts";

export interface ImageDeps extends SourceDeps {
  /** Made on first use: a pinned image whose blobs are kept resolves without it. */
  readonly registry: () => Promise<RegistryClient>;
  readonly content: ContentStore;
  /** Where pulled layers are recorded: exports reuse their blobs, pushes mount them. */
  readonly index: ContentIndex;
}

/**
 * `docker-image://REF`: a registry image. Its cache key is the digest the reference resolves
 * to for the op's platform, so a moved tag rebuilds and an unmoved one does not (pulled.ts);
 * layers come from the registry (unpack.ts). A digest-pinned ref whose manifest and config were
 * kept resolves locally.
 */
export function imageSource(op: pb.SourceOp.$Properties, platform: Platform, deps: ImageDeps): OpAdapter {
  const ref = (op.identifier ?? "").slice("docker-image://".length);
  const mode = parseResolveModeAttr(op.attrs?.["image.resolvemode"]);
  return pulledImageAdapter({
    resolve: (signal) => resolveImage(ref, platform, mode, deps, signal),
    layers: (image) => registryLayers(image, deps),
    // As BuildKit's identifier writes the reference (normalized, ":latest" when untagged), pinned
    // to the digest it resolved to (the index's, if any).
    provenance: (image) => ({ type: "docker-image", ref: normalizeImageRef(ref), platform, digest: image.indexDigest ?? image.digest }),
    layerLimit: parseLayerLimit(op.attrs?.["image.layerlimit"]),
  }, platform, deps);
}

/** Layers from the registry repository the image resolved in, recorded as their source there. */
function registryLayers(image: ResolvedImage, deps: ImageDeps): LayerProvider {
  const repo = image.ref.slice(0, image.ref.lastIndexOf("@"));
  return {
    fetch: async (layer, signal) => (await deps.registry()).fetchBlob(repo, layer, signal),
    stored: (layer) => deps.index.addSource(layer.digest, parseImageRef(repo)),
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
