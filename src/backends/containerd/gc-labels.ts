/**
 * containerd's garbage-collection labels on an image's blobs, set as BuildKit's image writer
 * sets them, so containerd (its GC, `ctr images check`, `ctr content ls`) sees what an image
 * refers to:
 *
 * - an index: `containerd.io/gc.ref.content.<i>` = its i-th manifest;
 * - a manifest: `containerd.io/gc.ref.content.0` = its config, `.<i+1>` = its i-th layer;
 * - a layer: `containerd.io/uncompressed` = its diff ID (from the config);
 * - the config, when the image's filesystem is a committed snapshot:
 *   `containerd.io/gc.ref.snapshot.<snapshotter>` = that snapshot (BuildKit sets this label
 *   when it unpacks an exported image; ours names the result's snapshot, which holds the same
 *   filesystem), so the snapshot lives as long as the image is named.
 *
 * Labels are set key by key (update mask `labels.<key>`): other labels on a blob stay.
 */
import type { Digest } from "../../core/digest.ts";
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from "../../core/image/oci-types.ts";
import { MediaType } from "../../core/image/oci-types.ts";
import { isNotFound, type ContainerdClient } from "./client.ts";
import { ContentService } from "./services.ts";

export const GC_CONTENT_PREFIX = "containerd.io/gc.ref.content.";
export const GC_SNAPSHOT_PREFIX = "containerd.io/gc.ref.snapshot.";
export const UNCOMPRESSED_LABEL = "containerd.io/uncompressed";

const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.ociIndex, MediaType.dockerManifestList]);
const MANIFEST_TYPES: ReadonlySet<string> = new Set([MediaType.ociManifest, MediaType.dockerManifest]);

export interface LabelImageOptions {
  /** containerd's snapshotter plugin the snapshot belongs to ("overlayfs"). */
  readonly snapshotter: string;
  /** The committed snapshot holding the image's filesystem, when there is one. */
  readonly snapshot?: string;
}

/** Reads blobs (JSON documents) by digest. */
export type ReadJson = (digest: Digest) => Promise<unknown>;

/** Labels target and every blob below it. Blobs absent from the store are skipped. */
export async function labelImage(client: ContainerdClient, readJson: ReadJson, target: Descriptor, opts: LabelImageOptions): Promise<void> {
  if (INDEX_TYPES.has(target.mediaType)) {
    const index = (await readJson(target.digest)) as ImageIndex;
    await setLabels(client, target.digest, indexLabels(index));
    for (const m of index.manifests) await labelImage(client, readJson, m, opts);
    return;
  }
  if (!MANIFEST_TYPES.has(target.mediaType)) return;
  const manifest = (await readJson(target.digest)) as ImageManifest;
  await setLabels(client, target.digest, manifestLabels(manifest));
  const config = (await readJson(manifest.config.digest)) as ImageConfig;
  const diffIDs = config.rootfs?.diff_ids ?? [];
  for (const [i, layer] of manifest.layers.entries()) {
    const diffID = diffIDs[i];
    if (diffID !== undefined) await setLabels(client, layer.digest, { [UNCOMPRESSED_LABEL]: diffID });
  }
  if (opts.snapshot !== undefined) await setLabels(client, manifest.config.digest, { [`${GC_SNAPSHOT_PREFIX}${opts.snapshotter}`]: opts.snapshot });
}

export function indexLabels(index: Pick<ImageIndex, "manifests">): Record<string, string> {
  return Object.fromEntries(index.manifests.map((m, i) => [`${GC_CONTENT_PREFIX}${i}`, m.digest]));
}

export function manifestLabels(manifest: Pick<ImageManifest, "config" | "layers">): Record<string, string> {
  return Object.fromEntries([manifest.config, ...manifest.layers].map((d, i) => [`${GC_CONTENT_PREFIX}${i}`, d.digest]));
}

async function setLabels(client: ContainerdClient, digest: Digest, labels: Record<string, string>): Promise<void> {
  const paths = Object.keys(labels).map((k) => `labels.${k}`);
  if (paths.length === 0) return;
  try {
    await client.unary(`labelling blob ${digest}`, ContentService.methods.Update, { info: { digest, labels }, update_mask: { paths } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
