/**
 * Pushing an image from the content store: each blob is checked with HEAD first, mounted from
 * another repository of the same registry when the content index knows one that has it, else
 * uploaded (streamed from disk); the manifest goes last, by tag. Where blobs now are is
 * recorded so later pushes to sibling repositories mount instead of uploading.
 */
import type { Descriptor } from "../../image/oci-types.ts";
import type { RegistryClient } from "../../registry/index.ts";
import type { ImageRef } from "../../reference/docker-ref.ts";
import type { LayerContext } from "../image-layers.ts";
import type { BuiltImage } from "./build-image.ts";

const PARALLEL_BLOBS = 3;

export interface PushStats {
  exists: number;
  mounted: number;
  uploaded: number;
}

export async function pushImage(client: RegistryClient, ref: ImageRef, image: BuiltImage, ctx: LayerContext, signal: AbortSignal): Promise<PushStats> {
  const repo = { domain: ref.domain, path: ref.path };
  const stats: PushStats = { exists: 0, mounted: 0, uploaded: 0 };
  const pushOne = async (desc: Descriptor): Promise<void> => {
    const mountFrom = ctx.index.sources(desc.digest, ref.domain).filter((r) => r !== `${ref.domain}/${ref.path}`);
    const res = await client.pushBlob(repo, desc, ctx.store.stream(desc.digest), { signal, mountFrom });
    stats[res.status]++;
    ctx.index.addSource(desc.digest, repo);
  };
  await inPool([...image.layers, image.config], PARALLEL_BLOBS, pushOne);
  const bytes = new Uint8Array(await Bun.file(ctx.store.blobPath(image.manifest.digest)).arrayBuffer());
  await client.pushManifest(repo, ref.tag ?? "latest", image.manifest.mediaType, bytes, signal);
  ctx.index.addSource(image.manifest.digest, repo);
  return stats;
}

/** Runs fn over items with at most `limit` at once; the first failure stops new starts. */
async function inPool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
