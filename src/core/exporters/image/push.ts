/**
 * Pushing an image from the content store: each blob is checked with HEAD first, mounted from
 * another repository of the same registry when the content index knows one that has it, else
 * uploaded (streamed from disk); the manifest goes last, by tag. Where blobs now are is
 * recorded so later pushes to sibling repositories mount instead of uploading.
 */
import { readBlob } from "../../content/blobs.ts";
import { pushStoredBlobs, type PushStats } from "../../content/push-blobs.ts";
import type { RegistryClient } from "../../registry/index.ts";
import { formatImageRef, type ImageRef } from "../../reference/docker-ref.ts";
import { NO_EXPORT_PROGRESS, type ExportProgress } from "../exporter.ts";
import type { LayerContext } from "../../image/image-layers.ts";
import type { BuiltImage } from "./build-image.ts";

export type { PushStats } from "../../content/push-blobs.ts";

/** byDigest: the manifest is put by its digest, not the ref's tag (push-by-digest). Steps as BuildKit's push reports them. */
export async function pushImage(
  client: RegistryClient,
  ref: ImageRef,
  image: BuiltImage,
  ctx: LayerContext,
  opts: { byDigest?: boolean; signal: AbortSignal; progress?: ExportProgress },
): Promise<PushStats> {
  const { signal } = opts;
  const progress = opts.progress ?? NO_EXPORT_PROGRESS;
  const repo = { domain: ref.domain, path: ref.path };
  const stats = await progress.step("pushing layers", () => pushStoredBlobs(client, repo, [...image.layers, image.config], { store: ctx.store, index: ctx.index, signal }));
  const bytes = await readBlob(ctx.store, image.manifest.digest);
  const reference = opts.byDigest ? image.manifest.digest : (ref.tag ?? "latest");
  await progress.step(`pushing manifest for ${formatImageRef(ref)}@${image.manifest.digest}`, () => client.pushManifest(repo, reference, image.manifest.mediaType, bytes, signal));
  ctx.index.addSource(image.manifest.digest, repo);
  return stats;
}
