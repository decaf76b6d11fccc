/**
 * BuildKit's inline cache (v0.11 cache/remotecache/inline, exporter/containerimage/writer.go,
 * cache/remotecache/import.go): the records of an image's build, kept in its own image config
 * under `moby.buildkit.cache.v0`, whose results are the image's layers.
 *
 * The value is a Go []byte, so a base64 string; its bytes are the JSON of the cache config's
 * `records` array alone (no `layers`): a result `{ "layer": i }` is the chain of the image's
 * first i+1 layers (the importer gives manifest layer i the parent i-1), a chained result
 * `{ "layers": [i, j, …] }` lists image layers explicitly when a result is not a prefix of the
 * image. On export only results made entirely of the image's layers are kept (records keep
 * their links either way); with none left there is no inline cache at all.
 */
import { isDigest } from "../../digest.ts";
import type { Digest } from "../../digest.ts";
import { BuildkitError } from "../../errors.ts";
import { INLINE_CACHE_KEY } from "../../image/oci-types.ts";
import type { Descriptor } from "../../image/oci-types.ts";
import type { BkConfig, BkLayer, BkRecord, BuildkitCache } from "./buildkit-format.ts";
import { parseRecords, recordJSON } from "./buildkit-format.ts";
import type { CacheLayer } from "./format.ts";

/** An image layer as the manifest lists it, with its diffID from the config. */
export interface ImageLayerRef {
  readonly digest: Digest;
  readonly diffID: Digest;
}

/**
 * config's records with their results rewritten as indexes into the image's layers (results
 * not made of image layers dropped); undefined when no result is left. A cache blob is an
 * image layer when its digest is the layer's, or else (another compression of the same
 * content) when its diffID is (BuildKit's fallback on the uncompressed digest).
 */
export function inlineRecords(config: BkConfig, blobs: ReadonlyMap<Digest, CacheLayer>, image: readonly ImageLayerRef[]): BkRecord[] | undefined {
  const indexOf = new Map<Digest, number>();
  image.forEach((layer, i) => {
    for (const b of blobs.values()) if (b.diffID === layer.diffID && b.blob.digest !== layer.digest) indexOf.set(b.blob.digest, i);
  });
  image.forEach((layer, i) => indexOf.set(layer.digest, i));
  const toImage = (layerIndexes: readonly number[]): number[] | undefined => {
    const out: number[] = [];
    for (const i of layerIndexes) {
      const index = indexOf.get(config.layers[i]!.blob);
      if (index === undefined) return undefined;
      out.push(index);
    }
    return out;
  };
  let kept = 0;
  const records = config.records.map((r): BkRecord => {
    const results: number[] = [];
    const chains: number[][] = [];
    for (const list of [...r.results.map((top) => parentChain(config.layers, top)), ...r.chains]) {
      const mapped = toImage(list);
      if (mapped === undefined || mapped.length === 0) continue;
      if (mapped.every((index, k) => index === k)) results.push(mapped.length - 1);
      else chains.push(mapped);
      kept++;
    }
    return { digest: r.digest, results, chains, inputs: r.inputs };
  });
  return kept === 0 ? undefined : records;
}

/** Layer indexes from the base up to top. */
function parentChain(layers: readonly BkLayer[], top: number): number[] {
  const chain: number[] = [];
  for (let i = top; i !== -1; i = layers[i]!.parent) {
    if (chain.includes(i)) break;
    chain.unshift(i);
  }
  return chain;
}

/** The JSON bytes of the records (what the image config carries, base64-encoded). */
export function encodeInlineRecords(records: readonly BkRecord[], createdAt: string): Uint8Array {
  return new TextEncoder().encode(`[${records.map(recordJSON(createdAt)).join(",")}]`);
}

/** The image config value: the records' bytes as Go writes a []byte. */
export function inlineCacheValue(records: Uint8Array): string {
  return Buffer.from(records).toString("base64");
}

/** What an image's config holds: its inline cache, or why there is none (BuildKit then imports nothing). */
export type InlineCacheRead = { readonly cache: BuildkitCache } | { readonly none: string };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Reads the inline cache of an image from its manifest's layers and its config's bytes. */
export function parseInlineCache(layers: readonly Descriptor[], configBytes: Uint8Array, what: string): InlineCacheRead {
  const bad = (why: string) => new BuildkitError("InvalidArgument", `reading inline cache of ${what}: ${why}`);
  let config: unknown;
  try {
    config = JSON.parse(new TextDecoder().decode(configBytes));
  } catch (err) {
    throw bad(`image config is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isObject(config)) throw bad("image config is not an object");
  if (layers.length === 0) return { none: "the image has no layers" };
  const rootfs = isObject(config.rootfs) ? config.rootfs : {};
  const diffIDs = Array.isArray(rootfs.diff_ids) ? (rootfs.diff_ids as unknown[]) : [];
  if (diffIDs.length !== layers.length) return { none: `the image has ${layers.length} layers but ${diffIDs.length} diff IDs` };
  const value = config[INLINE_CACHE_KEY];
  if (value === undefined || value === null) return { none: `no ${INLINE_CACHE_KEY} in the image config` };
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw bad(`${INLINE_CACHE_KEY} is not base64`);
  let records: unknown;
  try {
    records = JSON.parse(Buffer.from(value, "base64").toString("utf8"));
  } catch (err) {
    throw bad(`${INLINE_CACHE_KEY} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (records !== null && !Array.isArray(records)) throw bad(`${INLINE_CACHE_KEY} is not a list of records`);
  const blobs = new Map<Digest, CacheLayer>();
  const bkLayers: BkLayer[] = layers.map((desc, i) => {
    const diffID = diffIDs[i];
    if (typeof diffID !== "string" || !isDigest(diffID)) throw bad(`diff ID ${i} is not a digest`);
    blobs.set(desc.digest, { blob: desc, diffID });
    return { blob: desc.digest, parent: i - 1 };
  });
  return { cache: { config: { layers: bkLayers, records: parseRecords(records ?? [], layers.length, what) }, blobs } };
}
