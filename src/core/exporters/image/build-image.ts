/**
 * A result as an image in the content store: layers (image-layers.ts), config and manifest
 * blobs, OCI or Docker schema2 media types. Every exporter that makes an image starts here.
 */
import type { Digest } from "../../digest.ts";
import { layerMediaType } from "../../image/compression.ts";
import type { Descriptor, ImageManifest } from "../../image/oci-types.ts";
import { hostPlatform } from "../../llb/platform.ts";
import type { BuildResult } from "../exporter.ts";
import { resultLayers } from "../../image/image-layers.ts";
import type { ChainLayer, LayerContext } from "../../image/image-layers.ts";
import type { ImageOptions } from "./attrs.ts";
import { DOCKER_LAYER_TYPES, imageConfig, mediaTypes, rfc3339 } from "./image-config.ts";

export interface BuiltImage {
  readonly manifest: Descriptor;
  readonly config: Descriptor;
  /** Layer descriptors as the manifest lists them; their blobs are in the content store. */
  readonly layers: readonly Descriptor[];
  readonly diffIDs: readonly Digest[];
  /** Snapshots whose layer blob was reused from an earlier export. */
  readonly reused: number;
}

const encoder = new TextEncoder();

export async function buildImage(result: BuildResult, ctx: LayerContext, opts: ImageOptions & { signal: AbortSignal }): Promise<BuiltImage> {
  const chain = await resultLayers(result, ctx, { compression: opts.compression, level: opts.level, signal: opts.signal });
  const types = mediaTypes(opts.oci);
  const layerType = opts.oci ? layerMediaType(opts.compression) : DOCKER_LAYER_TYPES[opts.compression];
  const withBlobs = chain.filter((l): l is ChainLayer & { blob: NonNullable<ChainLayer["blob"]> } => l.blob !== undefined);
  const layers: Descriptor[] = withBlobs.map((l) => ({ mediaType: layerType, digest: l.blob.digest, size: l.blob.size }));
  const platform = result.worker?.platforms[0] ?? hostPlatform();
  const created = rfc3339(opts.epoch === undefined ? Date.now() : opts.epoch * 1000);
  const configJson = imageConfig({ platform, layers: chain, created, ...(opts.config ? { config: opts.config } : {}) });
  const config = await ctx.store.put(types.config, encoder.encode(JSON.stringify(configJson)));
  const manifestJson: ImageManifest = { schemaVersion: 2, mediaType: types.manifest, config, layers };
  const manifest = await ctx.store.put(types.manifest, encoder.encode(JSON.stringify(manifestJson)));
  return { manifest, config, layers, diffIDs: withBlobs.map((l) => l.blob.diffID), reused: chain.filter((l) => l.reused).length };
}
