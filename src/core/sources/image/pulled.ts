/**
 * The op adapter every image-like source shares (BuildKit's one puller behind the docker-image
 * and oci-layout schemes): the cache key is the digest the reference resolved to, BuildKit's own
 * keys are made from the manifest and the config's layers, and the result is the unpacked top
 * layer. Only resolving the image and fetching its blobs differ between the schemes.
 */
import { BuildkitError } from "../../errors.ts";
import { sha256 } from "../../digest.ts";
import type { Platform } from "../../llb/platform.ts";
import { normalizePlatform } from "../../cache/remote/buildkit-cache-map.ts";
import type { ResolvedImage } from "../../registry/pull.ts";
import type { SourceProvenance } from "../../provenance/capture.ts";
import type { OpAdapter, OpContext } from "../../solver/op.ts";
import { chainIDs, unpack, type LayerProvider, type UnpackDeps } from "./unpack.ts";

export interface ImagePull {
  /** The image for the op's platform; asked once per adapter (again after a failure). */
  resolve(signal: AbortSignal): Promise<ResolvedImage>;
  /** Where the layers of `image` that the worker lacks come from. */
  layers(image: ResolvedImage): LayerProvider;
  /** What build information records of the source, if anything. */
  provenance(image: ResolvedImage): SourceProvenance | undefined;
  /** The image's first N layers only (image.layerlimit, oci.layerlimit). */
  readonly layerLimit?: number | undefined;
}

export function pulledImageAdapter(pull: ImagePull, platform: Platform, deps: UnpackDeps): OpAdapter {
  const limit = pull.layerLimit;
  let resolving: Promise<ResolvedImage> | undefined;
  const resolve = (ctx: OpContext) => {
    resolving ??= pull.resolve(ctx.signal).catch((err: unknown) => {
      resolving = undefined;
      throw err;
    });
    return resolving;
  };
  return {
    async contentKey(ctx) {
      return (await resolve(ctx)).digest;
    },
    async remoteKeys(ctx) {
      return buildkitImageKeys(limited(await resolve(ctx), limit), platform, limit);
    },
    async provenance(ctx) {
      return pull.provenance(await resolve(ctx));
    },
    async exec(_inputs, ctx) {
      const image = limited(await resolve(ctx), limit);
      const name = await unpack(image, pull.layers(image), deps, ctx);
      return [deps.refs.ref(name)];
    },
  };
}

/** A layer limit attribute: the image's first N layers only (N > 0), as BuildKit's identifier reads it. */
export function parseLayerLimit(value: string | undefined): number | undefined {
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
