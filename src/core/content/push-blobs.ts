import type { Descriptor } from "../image/oci-types.ts";
import { eachLimited } from "../semaphore.ts";
import type { RegistryClient } from "../registry/index.ts";
import type { ContentIndex } from "./index-db.ts";
import type { ContentStore } from "../worker/content-store.ts";

const PARALLEL_BLOBS = 3;

export interface PushStats {
  exists: number;
  mounted: number;
  uploaded: number;
}

/**
 * Pushes blobs of the content store to a repository, a few at a time: each is checked with
 * HEAD first, mounted from another repository of the same registry when the content index
 * knows one that has it, else uploaded (streamed from disk). Where each blob now is gets
 * recorded, so later pushes to sibling repositories mount instead of uploading.
 */
export async function pushStoredBlobs(
  client: RegistryClient,
  repo: { readonly domain: string; readonly path: string },
  blobs: readonly Descriptor[],
  ctx: { store: ContentStore; index: ContentIndex; signal: AbortSignal; onPushed?: (desc: Descriptor, status: keyof PushStats) => void },
): Promise<PushStats> {
  const own = `${repo.domain}/${repo.path}`;
  const stats: PushStats = { exists: 0, mounted: 0, uploaded: 0 };
  await eachLimited(blobs, PARALLEL_BLOBS, async (desc) => {
    const mountFrom = ctx.index.sources(desc.digest, repo.domain).filter((r) => r !== own);
    const res = await client.pushBlob(repo, desc, ctx.store.read(desc.digest), { signal: ctx.signal, mountFrom });
    stats[res.status]++;
    ctx.index.addSource(desc.digest, repo);
    ctx.onPushed?.(desc, res.status);
  });
  return stats;
}
