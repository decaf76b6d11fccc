/**
 * A result as an image in the content store: layers (image-layers.ts), config and manifest
 * blobs, OCI or Docker schema2 media types. Every exporter that makes an image starts here.
 */
import { putBlob } from "../../content/blobs.ts";
import type { Digest } from "../../digest.ts";
import { layerMediaType, type Compression } from "../../image/compression.ts";
import type { Descriptor, ImageManifest } from "../../image/oci-types.ts";
import { hostPlatform } from "../../llb/platform.ts";
import type { BuildResult } from "../exporter.ts";
import { resultLayers } from "../../image/image-layers.ts";
import type { ChainLayer, LayerContext } from "../../image/image-layers.ts";
import type { ImageOptions } from "./attrs.ts";
import { goJSON } from "../../go-json.ts";
import { IMAGE_CONFIG_KEY } from "../metadata-keys.ts";
import { patchImageConfig } from "./patch-config.ts";
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
  const chain = await resultLayers(result, ctx, { compression: opts.compression, level: opts.level, force: opts.force, signal: opts.signal });
  const types = mediaTypes(opts.oci);
  const withBlobs = chain.filter((l): l is ChainLayer & { blob: NonNullable<ChainLayer["blob"]> } => l.blob !== undefined);
  // Each layer's own compression: a kept blob (a pulled base layer, say) may differ from the one asked for.
  const layerType = (c: Compression) => (opts.oci ? layerMediaType(c) : DOCKER_LAYER_TYPES[c]);
  const layers: Descriptor[] = withBlobs.map((l) => ({ mediaType: layerType(l.blob.compression), digest: l.blob.digest, size: l.blob.size }));
  const platform = result.worker?.platforms[0] ?? hostPlatform();
  const created = rfc3339(opts.epoch === undefined ? Date.now() : opts.epoch * 1000);
  const frontendConfig = result.metadata?.[IMAGE_CONFIG_KEY];
  // `--export-cache type=inline`: the build's records for these layers, in the config (base64, as Go writes []byte).
  const inline = await result.inlineCache?.(withBlobs.map((l) => ({ digest: l.blob.digest, diffID: l.blob.diffID })), { compression: opts.compression, level: opts.level, force: opts.force });
  const inlineCache = inline === undefined ? {} : { inlineCache: Buffer.from(inline).toString("base64") };
  // A frontend's config is completed and written as BuildKit writes it; else our own default.
  const configText = frontendConfig
    ? goJSON(patchImageConfig(frontendConfig, { layers: chain, created, epoch: opts.epoch === undefined ? undefined : rfc3339(opts.epoch * 1000), ...inlineCache }))
    : JSON.stringify(imageConfig({ platform, layers: chain, created, ...(opts.config ? { config: opts.config } : {}), ...inlineCache }));
  const config = await putBlob(ctx.store, types.config, encoder.encode(configText));
  const manifestJson: ImageManifest = { schemaVersion: 2, mediaType: types.manifest, config, layers };
  const manifest = await putBlob(ctx.store, types.manifest, encoder.encode(JSON.stringify(manifestJson)));
  return { manifest, config, layers, diffIDs: withBlobs.map((l) => l.blob.diffID), reused: chain.filter((l) => l.reused).length };
}
