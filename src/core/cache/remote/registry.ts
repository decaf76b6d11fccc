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
import type { EncodedBuildkitCache } from "./buildkit-format.ts";
import type { ProgressTask as ProgressTask } from "../../progress/task.ts";
import { isCacheIndex } from "./source.ts";
import type { LoadedCache } from "./source.ts";
import { CACHE_CONFIG_MEDIA_TYPE, parseCacheConfigV0, parseCacheIndex } from "./buildkit-format.ts";
import { readInlineCaches } from "./inline-import.ts";
import type { Digest } from "../../digest.ts";
import { BuildkitError } from "../../errors.ts";
import { readAll } from "../../registry/verify-stream.ts";

const MAX_CONFIG = 32 << 20;


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

export async function pushRegistryCache(ref: string, encoded: EncodedBuildkitCache, layers: readonly Descriptor[], deps: RegistryCacheDeps, task: ProgressTask): Promise<void> {
  const repo = repositoryOf(ref);
  const client = await deps.registry();
  await pushStoredBlobs(client, repo, layers, {
    store: deps.content,
    index: deps.index,
    signal: deps.signal,
    onPushed: (desc, status) => task.status(`${status} ${desc.digest}`, desc.size, desc.size, true),
  });
  await client.pushBlob(repo, encoded.config.descriptor, encoded.config.bytes, { signal: deps.signal });
  const m = encoded.index;
  await client.pushManifest(repo, repo.tag, m.descriptor.mediaType, m.bytes, deps.signal);
}

/**
 * The caches at ref, told apart as BuildKit's importer does: an index listing a cache config is
 * a cache; an image manifest whose config is a cache config is our earlier format; any other
 * image or image index may carry inline caches (none: nothing imported).
 */
export async function readRegistryCache(ref: string, deps: RegistryCacheDeps, task: ProgressTask): Promise<LoadedCache[]> {
  const client = await deps.registry();
  const repo = repositoryOf(ref);
  const source = {
    fetch: (desc: Descriptor, signal: AbortSignal) => client.fetchBlob(repo, desc, signal),
    fetched: (digest: Digest) => deps.index.addSource(digest, repo),
  };
  const top = await client.fetchManifest(repo, repo.tag, deps.signal);
  const kind = topKind(top.bytes);
  if (kind === "cache-index") {
    const index = parseCacheIndex(top.bytes, ref);
    if (index.config.size > MAX_CONFIG) throw new BuildkitError("InvalidArgument", `reading cache ${ref}: config larger than ${MAX_CONFIG} bytes`);
    const bytes = await readAll(await client.fetchBlob(repo, index.config, deps.signal), MAX_CONFIG, `cache config ${index.config.digest}`);
    return [{ name: ref, buildkit: { config: parseCacheConfigV0(bytes, ref), blobs: index.blobs }, source }];
  }
  if (kind === "legacy") {
    // Our earlier format: one image manifest whose config lists records by our own keys.
    const resolved = await client.resolve(ref, hostPlatform(), deps.signal);
    return [{ name: ref, legacy: parseCacheConfig(resolved.manifest, resolved.configBytes, ref), source }];
  }
  return await readInlineCaches(top.bytes, { client, repo, name: ref, source, signal: deps.signal, task });
}

/** What the manifest at a cache ref is (bytes that are not JSON are left to the image path's errors). */
function topKind(bytes: Uint8Array): "cache-index" | "legacy" | "image" {
  if (isCacheIndex(bytes)) return "cache-index";
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as { config?: { mediaType?: unknown } };
    return json.config?.mediaType === CACHE_CONFIG_MEDIA_TYPE ? "legacy" : "image";
  } catch {
    return "image";
  }
}
