/**
 * BuildKit's remote cache format, as v0.11 writes it (cache/remotecache/v1): an OCI image index
 * whose `manifests` are the result layers (each annotated with `containerd.io/uncompressed`,
 * its diffID) followed by one blob of media type application/vnd.buildkit.cacheconfig.v0:
 *
 *   { "layers":  [ { "blob": digest, "parent": index (-1 none; omitted when 0) } ],
 *     "records": [ { "layers": [ { "layer": i, "createdAt" } ], "chains": [ { "layers": [i…] } ],
 *                    "digest": rootKey(CacheMap digest, output),
 *                    "inputs": [ [ { "selector"?, "link": record index } ] ] } ] }
 *
 * A record's result is the chain ending at its layer (parents first). A record matches a
 * vertex output when its digest is the vertex's and, for each input, one of its links is to a
 * record matching that input with the same selector (see buildkit-cache-map.ts).
 */
import { compressionOfMediaType, layerMediaType } from "../../image/compression.ts";
import { isDigest, sha256 } from "../../digest.ts";
import type { Digest } from "../../digest.ts";
import { BuildkitError } from "../../errors.ts";
import { MediaType } from "../../image/oci-types.ts";
import type { Descriptor } from "../../image/oci-types.ts";
import type { CacheLayer } from "./format.ts";
import { goObject, goString, omitString } from "./go-json.ts";

export const CACHE_CONFIG_MEDIA_TYPE = "application/vnd.buildkit.cacheconfig.v0";
export const UNCOMPRESSED = "containerd.io/uncompressed";
const CREATED_AT = "buildkit/createdat";

export interface BkLayer {
  readonly blob: Digest;
  readonly parent: number;
}
export interface BkInput {
  readonly selector: string;
  readonly link: number;
}
export interface BkRecord {
  readonly digest: string;
  /** Layer indexes, each the top of a result chain. */
  readonly results: readonly number[];
  /** Explicit layer lists (BuildKit's "chains"). */
  readonly chains: readonly (readonly number[])[];
  readonly inputs: readonly (readonly BkInput[])[];
}
export interface BkConfig {
  readonly layers: readonly BkLayer[];
  readonly records: readonly BkRecord[];
}

/** A parsed cache: its config and the layer blobs its index lists. */
export interface BuildkitCache {
  readonly config: BkConfig;
  readonly blobs: ReadonlyMap<Digest, CacheLayer>;
}

function bad(what: string, why: string): BuildkitError {
  return new BuildkitError("InvalidArgument", `reading cache ${what}: ${why}`);
}

/** The layers of a record's result, base first; undefined when a blob is not in the index. */
export function resultLayers(cache: BuildkitCache, record: BkRecord): CacheLayer[] | undefined {
  const lists: (readonly number[])[] = [...record.results.map((top) => parentChain(cache.config, top)), ...record.chains];
  for (const list of lists) {
    const layers = list.map((i) => cache.blobs.get(cache.config.layers[i]!.blob));
    if (layers.every((l): l is CacheLayer => l !== undefined)) return layers;
  }
  return undefined;
}

function parentChain(config: BkConfig, top: number): number[] {
  const chain: number[] = [];
  for (let i = top; i !== -1; i = config.layers[i]!.parent) {
    if (chain.includes(i)) break; // a loop: checked at parse time, but never spin
    chain.unshift(i);
  }
  return chain;
}

// ---- reading ----

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isIndex = (v: unknown, n: number): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v < n;

/** The cache index's config descriptor and layers (with diffIDs from their annotations). */
export function parseCacheIndex(bytes: Uint8Array, what: string): { config: Descriptor; blobs: Map<Digest, CacheLayer> } {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw bad(what, `index is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isObject(json) || !Array.isArray(json.manifests)) throw bad(what, "not an OCI image index");
  let config: Descriptor | undefined;
  const blobs = new Map<Digest, CacheLayer>();
  for (const d of json.manifests as unknown[]) {
    if (!isObject(d) || typeof d.mediaType !== "string" || typeof d.digest !== "string" || !isDigest(d.digest) || !Number.isSafeInteger(d.size) || (d.size as number) < 0) {
      throw bad(what, "index has an invalid descriptor");
    }
    const desc: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size as number };
    if (d.mediaType === CACHE_CONFIG_MEDIA_TYPE) config = desc;
    else {
      const diffID = isObject(d.annotations) ? d.annotations[UNCOMPRESSED] : undefined;
      // A layer without its diffID cannot be checked or shared by chain ID: left out (a miss).
      if (typeof diffID === "string" && isDigest(diffID)) blobs.set(d.digest, { blob: desc, diffID });
    }
  }
  if (config === undefined) throw bad(what, `no ${CACHE_CONFIG_MEDIA_TYPE} in the index (an image's inline cache is imported with type=registry,ref=IMAGE)`);
  return { config, blobs };
}

export function parseCacheConfigV0(bytes: Uint8Array, what: string): BkConfig {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw bad(what, `config is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isObject(json)) throw bad(what, "config is not an object");
  const rawLayers = Array.isArray(json.layers) ? (json.layers as unknown[]) : [];
  const rawRecords = Array.isArray(json.records) ? (json.records as unknown[]) : [];
  const layers = rawLayers.map((l): BkLayer => {
    if (!isObject(l) || typeof l.blob !== "string" || !isDigest(l.blob)) throw bad(what, "a layer has no valid blob digest");
    const parent = l.parent ?? 0;
    if (parent !== -1 && !isIndex(parent, rawLayers.length)) throw bad(what, `layer ${l.blob}: invalid parent ${String(parent)}`);
    return { blob: l.blob, parent: parent as number };
  });
  for (let i = 0; i < layers.length; i++) {
    const seen = new Set<number>();
    for (let j = i; j !== -1; j = layers[j]!.parent) {
      if (seen.has(j)) throw bad(what, "looping layer parents");
      seen.add(j);
    }
  }
  return { layers, records: parseRecords(rawRecords, layers.length, what) };
}

/** BuildKit's `records` array: results and chains index `layerCount` layers, links index records. */
export function parseRecords(rawRecords: readonly unknown[], layerCount: number, what: string): BkRecord[] {
  const records = rawRecords.map((r): BkRecord => {
    if (!isObject(r) || typeof r.digest !== "string") throw bad(what, "a record has no digest");
    const results = (Array.isArray(r.layers) ? (r.layers as unknown[]) : []).map((x) => {
      if (!isObject(x) || !isIndex(x.layer, layerCount)) throw bad(what, `record ${r.digest}: invalid layer index`);
      return x.layer;
    });
    const chains = (Array.isArray(r.chains) ? (r.chains as unknown[]) : []).map((c) => {
      const list = isObject(c) && Array.isArray(c.layers) ? (c.layers as unknown[]) : [];
      if (!list.every((i) => isIndex(i, layerCount))) throw bad(what, `record ${r.digest}: invalid chain`);
      return list as number[];
    });
    const inputs = (Array.isArray(r.inputs) ? (r.inputs as unknown[]) : []).map((links) =>
      (Array.isArray(links) ? (links as unknown[]) : []).map((l): BkInput => {
        if (!isObject(l) || !isIndex(l.link ?? 0, rawRecords.length)) throw bad(what, `record ${r.digest}: invalid input link`);
        return { selector: typeof l.selector === "string" ? l.selector : "", link: (l.link ?? 0) as number };
      }),
    );
    return { digest: r.digest, results, chains, inputs };
  });
  return records;
}

// ---- writing ----

export interface EncodedBuildkitCache {
  readonly config: { readonly descriptor: Descriptor; readonly bytes: Uint8Array };
  readonly index: { readonly descriptor: Descriptor; readonly bytes: Uint8Array };
}

const encoder = new TextEncoder();

/** The config and index bytes; layers are listed in the config's layer order. oci false: Docker schema2 list and layer types (oci-mediatypes=false). */
export function encodeBuildkitCache(config: BkConfig, blobs: ReadonlyMap<Digest, CacheLayer>, createdAt: string, opts: { oci?: boolean } = {}): EncodedBuildkitCache {
  const oci = opts.oci ?? true;
  const indexType = oci ? MediaType.ociIndex : MediaType.dockerManifestList;
  const configJSON = goObject([
    ["layers", config.layers.length ? `[${config.layers.map((l) => goObject([["blob", goString(l.blob)], ["parent", l.parent === 0 ? undefined : String(l.parent)]])).join(",")}]` : undefined],
    ["records", config.records.length ? `[${config.records.map(recordJSON(createdAt)).join(",")}]` : undefined],
  ]);
  const configBytes = encoder.encode(configJSON);
  const configDesc: Descriptor = { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: sha256(configBytes), size: configBytes.byteLength };
  const manifests = config.layers.map((l) => {
    const layer = blobs.get(l.blob);
    if (!layer) throw new BuildkitError("Internal", `encoding cache: no descriptor for ${l.blob}`);
    const compression = compressionOfMediaType(layer.blob.mediaType);
    const mediaType = compression === undefined ? layer.blob.mediaType : layerMediaType(compression, oci);
    return { ...layer.blob, mediaType, annotations: { [CREATED_AT]: createdAt, [UNCOMPRESSED]: layer.diffID } };
  });
  const seen = new Set<string>();
  const unique = manifests.filter((m) => !seen.has(m.digest) && seen.add(m.digest));
  const index = { schemaVersion: 2, mediaType: indexType, manifests: [...unique, configDesc] };
  const indexBytes = encoder.encode(JSON.stringify(index));
  return {
    config: { descriptor: configDesc, bytes: configBytes },
    index: { descriptor: { mediaType: indexType, digest: sha256(indexBytes), size: indexBytes.byteLength }, bytes: indexBytes },
  };
}

/** One record as Go marshals v1.CacheRecord (fields in struct order, omitempty applied). */
export const recordJSON =
  (createdAt: string) =>
  (r: BkRecord): string =>
    goObject([
      ["layers", r.results.length ? `[${r.results.map((i) => goObject([["layer", String(i)], ["createdAt", goString(createdAt)]])).join(",")}]` : undefined],
      ["chains", r.chains.length ? `[${r.chains.map((c) => goObject([["layers", `[${c.join(",")}]`], ["createdAt", goString(createdAt)]])).join(",")}]` : undefined],
      ["digest", goString(r.digest)],
      ["inputs", r.inputs.length ? `[${r.inputs.map((links) => `[${links.map((l) => goObject([["selector", omitString(l.selector)], ["link", String(l.link)]])).join(",")}]`).join(",")}]` : undefined],
    ]);
