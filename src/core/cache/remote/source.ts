/** An imported cache: its records and where its blobs come from. */
import type { Digest } from "../../digest.ts";
import type { Descriptor } from "../../image/oci-types.ts";
import type { BuildkitCache } from "./buildkit-format.ts";
import { CACHE_CONFIG_MEDIA_TYPE } from "./buildkit-format.ts";
import type { CacheDocument } from "./format.ts";

export interface BlobSource {
  /** The blob's bytes; the stream errors unless they match desc's digest and size. */
  fetch(desc: Descriptor, signal: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /** Called once a blob from here is stored (a registry remembers where it is, for mounts). */
  fetched?(digest: Digest): void;
}

interface Loaded {
  /** The directory or ref it was read from. */
  readonly name: string;
  readonly source: BlobSource;
}

/** BuildKit's format, or our earlier one (read for migration only: records keyed by our keys). */
export type LoadedCache = (Loaded & { readonly buildkit: BuildkitCache }) | (Loaded & { readonly legacy: CacheDocument });

/**
 * Whether a top-level blob is BuildKit's cache index: an index listing a cache config (an
 * image index lists none: its images may carry inline caches).
 */
export function isCacheIndex(bytes: Uint8Array): boolean {
  return manifestList(bytes)?.some((m) => typeof m === "object" && m !== null && (m as { mediaType?: unknown }).mediaType === CACHE_CONFIG_MEDIA_TYPE) ?? false;
}

/** Whether a top-level blob is an index (of a cache or of images): it lists manifests. */
export function isIndex(bytes: Uint8Array): boolean {
  return manifestList(bytes) !== undefined;
}

function manifestList(bytes: Uint8Array): unknown[] | undefined {
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as { manifests?: unknown };
    return Array.isArray(json.manifests) ? json.manifests : undefined;
  } catch {
    return undefined;
  }
}
