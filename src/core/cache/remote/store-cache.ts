/**
 * The cache in a content store someone else keeps (spec.ts CacheStoreTarget: a client's local
 * cache directory reached through its session, as BuildKit's local cache exporter and importer
 * reach it). Export puts the blobs (layers streamed from the worker's store, then the config and
 * the index) and returns the index's descriptor for the store's owner to tag; import reads the
 * cache whose top blob has a given digest. Blobs are verified as they stream.
 */
import type { Digest } from "../../digest.ts";
import { BuildkitError, withContext } from "../../errors.ts";
import type { Descriptor } from "../../image/oci-types.ts";
import { verifyingStream } from "../../registry/verify-stream.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import { putBlob } from "../../content/put-in-store.ts";
import type { EncodedBuildkitCache } from "./buildkit-format.ts";
import { loadCacheFromTop } from "./loaded-cache.ts";
import type { BlobSource, LoadedCache } from "./source.ts";

const MAX_SMALL_BLOB = 32 << 20;


/** Puts the cache's blobs into target; the index's descriptor names the cache there. */
export async function writeStoreCache(target: ContentStore, encoded: EncodedBuildkitCache, layers: readonly Descriptor[], content: ContentStore, signal: AbortSignal): Promise<Descriptor> {
  for (const layer of layers) await putBlob(target, layer, () => content.read(layer.digest, { signal }), signal);
  for (const small of [encoded.config, encoded.index]) await putBlob(target, small.descriptor, () => new Response(small.bytes).body ?? new ReadableStream(), signal);
  return encoded.index.descriptor;
}

async function readSmall(store: ContentStore, name: string, desc: Pick<Descriptor, "digest" | "size">, what: string, signal: AbortSignal): Promise<Uint8Array> {
  if (desc.size > MAX_SMALL_BLOB) throw new BuildkitError("InvalidArgument", `${what} ${desc.digest} in ${name}: larger than ${MAX_SMALL_BLOB} bytes`);
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of verifyingStream(store.read(desc.digest, { signal }), desc)) chunks.push(chunk);
  } catch (err) {
    throw withContext(`reading ${what} ${desc.digest} from ${name}`, err);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** Reads the cache whose top blob (BuildKit's cache index) is digest in store. */
export async function readStoreCache(name: string, store: ContentStore, digest: Digest, signal: AbortSignal): Promise<LoadedCache> {
  const info = await store.info(digest);
  if (info === undefined) throw new BuildkitError("NotFound", `${name}: no blob ${digest} (the cache index)`);
  const top = await readSmall(store, name, { digest, size: info.size }, "cache index", signal);
  const source: BlobSource = {
    async fetch(desc, fetchSignal) {
      return verifyingStream(store.read(desc.digest, { signal: fetchSignal }), desc);
    },
  };
  return await loadCacheFromTop(name, top, (desc, what) => readSmall(store, name, desc, what, signal), source);
}
