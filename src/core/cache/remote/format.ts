/**
 * Our earlier remote cache format, now only read (to migrate caches written before we spoke
 * BuildKit's format, buildkit-format.ts). It was BuildKit's in spirit (its `image-manifest=true` layout) with our
 * cache keys: one OCI image manifest whose layers are the result layers (each blob once) and
 * whose config, of media type application/vnd.buildkit.cacheconfig.v0, lists the records:
 *
 *   { "architecture", "os",                       host platform, informative only
 *     "rootfs": { "type": "layers", "diff_ids" },  diffID of each manifest layer, same order
 *     "records": [ { "key", "output", "layers": [i, …], "description"?, "kind"? } ] }
 *
 * A record says: output `output` of the vertex with cache key `key` is the filesystem made by
 * applying manifest layers i, … (base first); no layers is an empty filesystem. Snapshots whose
 * diff was empty are left out, so the chain has only real layers. The config doubles as a
 * plain image config (rootfs.diff_ids), which lets registry clients read it like any image.
 */
import { isDigest, sha256 } from "../../digest.ts";
import type { Digest } from "../../digest.ts";
import { BuildkitError } from "../../errors.ts";
import { MediaType } from "../../image/oci-types.ts";
import type { Descriptor, ImageManifest } from "../../image/oci-types.ts";
import { hostPlatform } from "../../llb/platform.ts";

export const CACHE_CONFIG_MEDIA_TYPE = "application/vnd.buildkit.cacheconfig.v0";

export interface CacheRecord {
  readonly key: Digest;
  readonly output: number;
  /** Indexes into the manifest's layers, base first. */
  readonly layers: readonly number[];
  readonly description?: string;
  readonly kind?: string;
}

export interface CacheLayer {
  /** The blob as the manifest lists it. */
  readonly blob: Descriptor;
  readonly diffID: Digest;
}

/** A cache manifest, read or about to be written. */
export interface CacheDocument {
  readonly layers: readonly CacheLayer[];
  readonly records: readonly CacheRecord[];
}

export interface EncodedCache {
  readonly config: { readonly descriptor: Descriptor; readonly bytes: Uint8Array };
  readonly manifest: { readonly descriptor: Descriptor; readonly bytes: Uint8Array };
}

const encoder = new TextEncoder();

function descriptorOf(mediaType: string, bytes: Uint8Array): Descriptor {
  return { mediaType, digest: sha256(bytes), size: bytes.byteLength };
}

/** The config and manifest bytes of doc. */
export function encodeCache(doc: CacheDocument): EncodedCache {
  const { os, architecture } = hostPlatform();
  const config = {
    architecture,
    os,
    rootfs: { type: "layers", diff_ids: doc.layers.map((l) => l.diffID) },
    records: doc.records.map((r) => ({ key: r.key, output: r.output, layers: r.layers, description: r.description || undefined, kind: r.kind || undefined })),
  };
  const configBytes = encoder.encode(JSON.stringify(config));
  const configDesc = descriptorOf(CACHE_CONFIG_MEDIA_TYPE, configBytes);
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDesc, layers: doc.layers.map((l) => l.blob) };
  const manifestBytes = encoder.encode(JSON.stringify(manifest));
  return { config: { descriptor: configDesc, bytes: configBytes }, manifest: { descriptor: descriptorOf(MediaType.ociManifest, manifestBytes), bytes: manifestBytes } };
}

function bad(what: string, why: string): BuildkitError {
  return new BuildkitError("InvalidArgument", `reading cache ${what}: ${why}`);
}

function isIndex(value: unknown, length: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value < length;
}

function parseRecord(value: unknown, layerCount: number, what: string): CacheRecord {
  if (typeof value !== "object" || value === null) throw bad(what, "a record is not an object");
  const r = value as Record<string, unknown>;
  if (typeof r.key !== "string" || !isDigest(r.key)) throw bad(what, `record key ${String(r.key)} is not a sha256 digest`);
  if (typeof r.output !== "number" || !Number.isInteger(r.output) || r.output < 0) throw bad(what, `record ${r.key}: invalid output ${String(r.output)}`);
  if (!Array.isArray(r.layers) || !r.layers.every((i) => isIndex(i, layerCount))) throw bad(what, `record ${r.key}: layers must be indexes of the manifest's ${layerCount} layers`);
  return {
    key: r.key,
    output: r.output,
    layers: r.layers as number[],
    description: typeof r.description === "string" ? r.description : undefined,
    kind: typeof r.kind === "string" ? r.kind : undefined,
  };
}

/** Reads a cache manifest's config against the manifest; `what` names the cache in errors. */
export function parseCacheConfig(manifest: ImageManifest, configBytes: Uint8Array, what: string): CacheDocument {
  if (manifest.config.mediaType !== CACHE_CONFIG_MEDIA_TYPE) throw bad(what, `not a cache manifest (config media type ${manifest.config.mediaType})`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(configBytes));
  } catch (err) {
    throw bad(what, `config is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const config = (typeof json === "object" && json !== null ? json : {}) as { rootfs?: { diff_ids?: unknown }; records?: unknown };
  const diffIDs = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIDs) || !diffIDs.every((d) => typeof d === "string" && isDigest(d))) throw bad(what, "config without valid rootfs.diff_ids");
  if (diffIDs.length !== manifest.layers.length) throw bad(what, `${manifest.layers.length} layers but ${diffIDs.length} diff IDs`);
  if (!Array.isArray(config.records)) throw bad(what, "config without records");
  const layers = manifest.layers.map((blob, i) => ({ blob, diffID: diffIDs[i] as Digest }));
  return { layers, records: config.records.map((r) => parseRecord(r, layers.length, what)) };
}

/** Checks untrusted manifest bytes: an OCI image manifest with sane descriptors. */
export function parseCacheManifest(bytes: Uint8Array, what: string): ImageManifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw bad(what, `manifest is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const m = (typeof json === "object" && json !== null ? json : {}) as Partial<ImageManifest>;
  if (m.schemaVersion !== 2 || typeof m.config !== "object" || !Array.isArray(m.layers)) throw bad(what, "not an OCI image manifest");
  for (const d of [m.config, ...m.layers]) {
    if (typeof d?.mediaType !== "string" || typeof d.digest !== "string" || !isDigest(d.digest) || !Number.isSafeInteger(d.size) || d.size < 0) {
      throw bad(what, "manifest has an invalid descriptor");
    }
  }
  return m as ImageManifest;
}
