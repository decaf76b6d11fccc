/**
 * `type=registry,ref=HOST/REPO:TAG`: the cache manifest under a tag of a repository. Export
 * pushes each layer blob (skipped when the registry has it, mounted from a sibling repository
 * the content index knows, else uploaded from the content store), the config, then the
 * manifest by tag. Import reads the manifest by tag with the client's resolve (the cache config
 * is also a plain image config) and streams blobs verified.
 */
import type { ContentIndex } from "../../content/index-db.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import type { Descriptor } from "../../image/oci-types.ts";
import { hostPlatform } from "../../llb/platform.ts";
import { parseImageRef } from "../../reference/docker-ref.ts";
import { pushStoredBlobs } from "../../content/push-blobs.ts";
import type { RegistryClient } from "../../registry/index.ts";
import { parseCacheConfig } from "./format.ts";
import type { EncodedCache } from "./format.ts";
import type { CacheTask } from "./progress.ts";
import type { LoadedCache } from "./source.ts";


export interface RegistryCacheDeps {
  /** The registry client, made on first use. */
  readonly registry: () => Promise<RegistryClient>;
  readonly content: ContentStore;
  readonly index: ContentIndex;
  readonly signal: AbortSignal;
}

function repositoryOf(ref: string): { domain: string; path: string; tag: string } {
  const r = parseImageRef(ref);
  return { domain: r.domain, path: r.path, tag: r.tag ?? "latest" };
}

export async function pushRegistryCache(ref: string, encoded: EncodedCache, layers: readonly Descriptor[], deps: RegistryCacheDeps, task: CacheTask): Promise<void> {
  const repo = repositoryOf(ref);
  const client = await deps.registry();
  await pushStoredBlobs(client, repo, layers, {
    store: deps.content,
    index: deps.index,
    signal: deps.signal,
    onPushed: (desc, status) => task.status(`${status} ${desc.digest}`, desc.size, desc.size, true),
  });
  await client.pushBlob(repo, encoded.config.descriptor, encoded.config.bytes, { signal: deps.signal });
  const m = encoded.manifest;
  await client.pushManifest(repo, repo.tag, m.descriptor.mediaType, m.bytes, deps.signal);
}

export async function readRegistryCache(ref: string, deps: RegistryCacheDeps): Promise<LoadedCache> {
  const client = await deps.registry();
  const resolved = await client.resolve(ref, hostPlatform(), deps.signal);
  const repo = repositoryOf(ref);
  const doc = parseCacheConfig(resolved.manifest, resolved.configBytes, ref);
  return {
    name: ref,
    doc,
    source: {
      fetch: (desc, signal) => client.fetchBlob(repo, desc, signal),
      fetched: (digest) => deps.index.addSource(digest, repo),
    },
  };
}
