/**
 * A cache's top blob (BuildKit's cache index, or our earlier manifest) read into a LoadedCache,
 * wherever its blobs live: the reader of small blobs (verified, bounded) and the blob source
 * come from the place it is read from.
 */
import type { Descriptor } from "../../image/oci-types.ts";
import { parseCacheConfigV0, parseCacheIndex } from "./buildkit-format.ts";
import { parseCacheConfig, parseCacheManifest } from "./format.ts";
import { isIndex } from "./source.ts";
import type { BlobSource, LoadedCache } from "./source.ts";

/** Reads a small blob whole (a config), checking its digest; `what` names it in errors. */
export type SmallBlobReader = (desc: Descriptor, what: string) => Promise<Uint8Array>;

export async function loadCacheFromTop(name: string, top: Uint8Array, readSmall: SmallBlobReader, source: BlobSource): Promise<LoadedCache> {
  // An index without a cache config fails here, named: an image's inline cache is read from a registry only.
  if (isIndex(top)) {
    const index = parseCacheIndex(top, name);
    const config = parseCacheConfigV0(await readSmall(index.config, "cache config"), name);
    return { name, buildkit: { config, blobs: index.blobs }, source };
  }
  const manifest = parseCacheManifest(top, name);
  const config = await readSmall(manifest.config, "config");
  return { name, legacy: parseCacheConfig(manifest, config, name), source };
}
