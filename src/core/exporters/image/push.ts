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
import type { BuiltOutput } from "./build-image.ts";
import type { Descriptor } from "../../image/oci-types.ts";

export type { PushStats } from "../../content/push-blobs.ts";

/**
 * byDigest: the top manifest is put by its digest, not the ref's tag (push-by-digest). An index
 * goes last, after each platform's manifest (by digest). Steps as BuildKit's push reports them.
 */
export async function pushImage(
  client: RegistryClient,
  ref: ImageRef,
  built: BuiltOutput,
  ctx: LayerContext,
  opts: { byDigest?: boolean; signal: AbortSignal; progress?: ExportProgress },
): Promise<PushStats> {
  const { signal } = opts;
  const progress = opts.progress ?? NO_EXPORT_PROGRESS;
  const repo = { domain: ref.domain, path: ref.path };
  // Attestation manifests go up as images do: statements as layers, then config and manifest.
  const manifests = [...built.images, ...(built.attestations ?? [])];
  const blobs = manifests.flatMap((image) => [...image.layers, image.config]);
  const stats = await progress.step("pushing layers", () => pushStoredBlobs(client, repo, blobs, { store: ctx.store, index: ctx.index, signal }));
  const put = async (desc: Descriptor, reference: string) => {
    const bytes = await readBlob(ctx.store, desc.digest);
    await client.pushManifest(repo, reference, desc.mediaType, bytes, signal);
    ctx.index.addSource(desc.digest, repo);
  };
  const top = built.top;
  await progress.step(`pushing manifest for ${formatImageRef(ref)}@${top.digest}`, async () => {
    for (const image of manifests) if (image.manifest.digest !== top.digest) await put(image.manifest, image.manifest.digest);
    await put(top, opts.byDigest ? top.digest : (ref.tag ?? "latest"));
  });
  return stats;
}
