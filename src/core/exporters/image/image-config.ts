/**
 * The image config of an exported result, as BuildKit writes one when the frontend gave none:
 * the platform, PATH and working directory "/", the layers' diffIDs, and one history entry
 * per snapshot of the chain (empty diffs marked empty_layer).
 */
import type { Digest } from "../../digest.ts";
import { INLINE_CACHE_KEY, MediaType } from "../../image/oci-types.ts";
import type { ContainerConfig, HistoryEntry, ImageConfig } from "../../image/oci-types.ts";
import type { Platform } from "../../llb/platform.ts";
import type { ChainLayer } from "../../image/image-layers.ts";

export const DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export const DOCKER_LAYER_TYPES = {
  gzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  zstd: "application/vnd.docker.image.rootfs.diff.tar.zstd",
  uncompressed: "application/vnd.docker.image.rootfs.diff.tar",
} as const;

/** RFC 3339 in UTC, without fractional seconds when there are none (as Go prints it). */
export function rfc3339(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.000Z$/, "Z");
}

/** `inlineCache`: the base64 inline cache (BuildKit's `moby.buildkit.cache.v0`), when exported. */
export function imageConfig(p: { platform: Platform; layers: readonly ChainLayer[]; created: string; config?: ContainerConfig; inlineCache?: string }): ImageConfig {
  const diffIDs: Digest[] = [];
  const history: HistoryEntry[] = [];
  for (const layer of p.layers) {
    if (layer.blob) diffIDs.push(layer.blob.diffID);
    history.push({ created: p.created, created_by: layer.createdBy, comment: "buildkit-ts", ...(layer.blob ? {} : { empty_layer: true }) });
  }
  return {
    created: p.created,
    architecture: p.platform.architecture,
    os: p.platform.os,
    ...(p.platform.variant ? { variant: p.platform.variant } : {}),
    // Settings given with the export (containerimage.config) over the defaults.
    config: { Env: [DEFAULT_PATH_ENV], WorkingDir: "/", ...p.config },
    rootfs: { type: "layers", diff_ids: diffIDs },
    history,
    ...(p.inlineCache === undefined ? {} : { [INLINE_CACHE_KEY]: p.inlineCache }),
  };
}

/** Media types of the manifest, config and layers for OCI or Docker schema2. */
export function mediaTypes(oci: boolean) {
  return oci
    ? { manifest: MediaType.ociManifest, config: MediaType.ociConfig, index: MediaType.ociIndex }
    : { manifest: MediaType.dockerManifest, config: MediaType.dockerConfig, index: MediaType.dockerManifestList };
}
