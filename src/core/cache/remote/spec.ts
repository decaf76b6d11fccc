/**
 * `--export-cache` and `--import-cache` as buildctl spells them: comma-separated key=value
 * pairs with a type. Supported: `type=local,dest=DIR[,tag=T]` and `type=registry,ref=HOST/REPO:TAG`,
 * each with BuildKit's mode=min|max, compression, compression-level, force-compression and
 * oci-mediatypes, and `type=inline` (the cache goes
 * into the exported image's config; always mode=min, the image's own compression, as BuildKit);
 * imports `type=local,src=DIR[,tag=T]` and `type=registry,ref=…` (a cache, or an image with an
 * inline cache). Every mistake is a one-line InvalidArgument naming the flag.
 */
import { invalidArgument } from "../../errors.ts";
import { readKeyValueRecord } from "../../go-csv.ts";
import { COMPRESSIONS, compressionNamed, parseCompressionLevel, type Compression } from "../../image/compression.ts";
import { parseGoBool } from "../../go-bool.ts";
import { parseImageRef } from "../../reference/docker-ref.ts";
import type { Digest } from "../../digest.ts";
import type { ContentStore } from "../../worker/content-store.ts";

export type CacheMode = "min" | "max";

/** How a stored export writes layers and its index (BuildKit's cache exporter attributes). */
export interface CacheLayerOptions {
  readonly mode: CacheMode;
  readonly compression: Compression;
  /** compression-level; undefined for the compressor's default. */
  readonly level?: number;
  /** force-compression: layers that have a blob in another compression are converted. */
  readonly force: boolean;
  /** oci-mediatypes (default true): OCI index and layer types, else Docker schema2 ones. */
  readonly oci: boolean;
}

/**
 * A content store someone else keeps (a client's local cache directory, which the daemon reaches
 * through the client's session, as BuildKit does): the cache goes in as blobs only; the store's
 * owner names it (BuildKit's client tags it in its index.json). Never parsed from a flag.
 */
export interface CacheStoreTarget {
  readonly type: "store";
  /** Where it is, for progress and messages (the client's directory). */
  readonly name: string;
  readonly store: ContentStore;
}

export type CacheExportSpec =
  | ({ readonly type: "local"; readonly dest: string; readonly tag: string } & CacheLayerOptions)
  | (CacheStoreTarget & CacheLayerOptions)
  | ({ readonly type: "registry"; readonly ref: string } & CacheLayerOptions)
  | { readonly type: "inline" };

/** The exports written to a place of their own (all but inline, which goes into an image). */
export type StoredCacheExportSpec = Exclude<CacheExportSpec, { readonly type: "inline" }>;

export type CacheImportSpec =
  | { readonly type: "local"; readonly src: string; readonly tag: string }
  | { readonly type: "registry"; readonly ref: string }
  /** The cache whose top blob (index or manifest) is digest in the store. */
  | (CacheStoreTarget & { readonly digest: Digest });

const TYPES = ["local", "registry", "inline"] as const;
type CacheType = (typeof TYPES)[number];
export const DEFAULT_TAG = "latest";

type Attrs = Record<string, string>;

/** A cache flag's key=value pairs, read as buildctl reads them (one CSV record; a key given twice is an error). */
export function parseCachePairs(flag: string, spec: string): Attrs {
  try {
    return readKeyValueRecord(spec);
  } catch (err) {
    throw invalidArgument(`${flag} "${spec}": ${err instanceof Error ? err.message : String(err)}`);
  }
}

function typeOf<T extends CacheType>(flag: string, spec: string, attrs: Attrs, known: readonly T[]): T {
  const type = attrs.type;
  if (!type) throw invalidArgument(`${flag} "${spec}": type is required (type=${known.join("|")})`);
  const found = known.find((t) => t === type);
  if (found === undefined) throw invalidArgument(`${flag} "${spec}": unknown cache type "${type}" (known: ${known.join(", ")})`);
  return found;
}

function check(flag: string, spec: string, attrs: Attrs, known: readonly string[]): void {
  const unknown = Object.keys(attrs).filter((k) => k !== "type" && !known.includes(k));
  if (unknown.length > 0) throw invalidArgument(`${flag} "${spec}": unknown attribute ${unknown.join(", ")}`);
}

function required(flag: string, spec: string, attrs: Attrs, key: string): string {
  const value = attrs[key];
  if (!value) throw invalidArgument(`${flag} "${spec}": ${key} is required`);
  return value;
}

function modeOf(flag: string, spec: string, attrs: Attrs): CacheMode {
  const mode = attrs.mode ?? "min";
  if (mode !== "min" && mode !== "max") throw invalidArgument(`${flag} "${spec}": mode must be min or max, not "${mode}"`);
  return mode;
}

function boolOf(flag: string, spec: string, attrs: Attrs, key: string, fallback: boolean): boolean {
  const v = attrs[key];
  if (v === undefined) return fallback;
  const b = parseGoBool(v);
  if (b === undefined) throw invalidArgument(`${flag} "${spec}": ${key} must be true or false, not "${v}"`);
  return b;
}

/** BuildKit's compression, compression-level, force-compression and oci-mediatypes, and the mode. */
function layerOptionsOf(flag: string, spec: string, attrs: Attrs): CacheLayerOptions {
  const compression = compressionOf(flag, spec, attrs);
  let level: number | undefined;
  try {
    level = parseCompressionLevel(compression, attrs["compression-level"]);
  } catch (err) {
    throw invalidArgument(`${flag} "${spec}": ${err instanceof Error ? err.message : String(err)}`);
  }
  const oci = boolOf(flag, spec, attrs, "oci-mediatypes", true);
  if (compression === "zstd" && !oci) throw invalidArgument(`${flag} "${spec}": compression=zstd needs oci-mediatypes=true`);
  return { mode: modeOf(flag, spec, attrs), compression, ...(level === undefined ? {} : { level }), force: boolOf(flag, spec, attrs, "force-compression", false), oci };
}

function compressionOf(flag: string, spec: string, attrs: Attrs): Compression {
  const c = attrs.compression ?? "gzip";
  const found = compressionNamed(c);
  if (!found) throw invalidArgument(`${flag} "${spec}": compression must be one of ${COMPRESSIONS.join(", ")}, not "${c}"`);
  return found;
}

/** A registry ref with a tag (a digest cannot name where to push or what to read by tag). */
function registryRef(flag: string, spec: string, attrs: Attrs): string {
  const ref = required(flag, spec, attrs, "ref");
  let parsed;
  try {
    parsed = parseImageRef(ref);
  } catch (err) {
    throw invalidArgument(`${flag} "${spec}": ${err instanceof Error ? err.message : String(err)}`);
  }
  if (parsed.digest !== undefined) throw invalidArgument(`${flag} "${spec}": ref must name a tag, not a digest`);
  return `${parsed.domain}/${parsed.path}:${parsed.tag ?? DEFAULT_TAG}`;
}

export function parseCacheExportSpec(spec: string): CacheExportSpec {
  const flag = "--export-cache";
  const attrs = parseCachePairs(flag, spec);
  const type = typeOf(flag, spec, attrs, TYPES);
  if (type === "inline") {
    // BuildKit's inline exporter takes no attributes: mode is read (and must be valid) but the
    // inline cache is always mode=min, in the compression of the image it goes into.
    check(flag, spec, attrs, ["mode"]);
    modeOf(flag, spec, attrs);
    return { type };
  }
  const layerAttrs = ["mode", "compression", "compression-level", "force-compression", "oci-mediatypes"];
  if (type === "local") {
    check(flag, spec, attrs, ["dest", "tag", ...layerAttrs]);
    const dest = required(flag, spec, attrs, "dest");
    return { type, dest, tag: attrs.tag || DEFAULT_TAG, ...layerOptionsOf(flag, spec, attrs) };
  }
  check(flag, spec, attrs, ["ref", ...layerAttrs]);
  return { type, ref: registryRef(flag, spec, attrs), ...layerOptionsOf(flag, spec, attrs) };
}

export function parseCacheImportSpec(spec: string): CacheImportSpec {
  const flag = "--import-cache";
  const attrs = parseCachePairs(flag, spec);
  if (attrs.type === "inline") throw invalidArgument(`${flag} "${spec}": an inline cache is imported from its image with type=registry,ref=IMAGE`);
  const type = typeOf(flag, spec, attrs, ["local", "registry"]);
  if (type === "local") {
    check(flag, spec, attrs, ["src", "tag"]);
    return { type, src: required(flag, spec, attrs, "src"), tag: attrs.tag || DEFAULT_TAG };
  }
  check(flag, spec, attrs, ["ref"]);
  return { type, ref: registryRef(flag, spec, attrs) };
}

/** Where a spec points, for progress and messages. */
export function cacheLocation(spec: CacheExportSpec | CacheImportSpec): string {
  if (spec.type === "registry") return spec.ref;
  if (spec.type === "inline") return "the image config";
  if (spec.type === "store") return spec.name;
  return "dest" in spec ? spec.dest : spec.src;
}
