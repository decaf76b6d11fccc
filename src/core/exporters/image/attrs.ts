/**
 * The attributes every image-producing exporter (image, oci, docker) shares, validated before
 * the build: layer compression and level, media types, the creation time and the name.
 * As in BuildKit, the compression is that of the layers made now: a layer that already has a
 * blob (a pulled base layer, an earlier export's) keeps it, unless `force-compression=true`
 * (then it is converted, diffID unchanged).
 */
import { invalidArgument } from "../../errors.ts";
import { isAnnotationAttr, parseAnnotationAttrs, type AnnotationAttr } from "./annotations.ts";
import { parseSourceDateEpoch } from "../spec.ts";
import { compressionNamed, parseCompressionLevel, type Compression } from "../../image/compression.ts";
import { parseGoBool } from "../../go-bool.ts";
import type { ContainerConfig } from "../../image/oci-types.ts";
import { parseImageRef } from "../../reference/docker-ref.ts";
import type { ImageRef } from "../../reference/docker-ref.ts";

/**
 * BuildKit's attributes of every image exporter (exporter/containerimage/opts.go); annotation.*
 * ones besides. attestation-inline and prefer-nondist-layers are checked and change nothing
 * here: there are no attestations, and no layer is non-distributable.
 */
export const IMAGE_ATTRS = [
  "name",
  "compression",
  "compression-level",
  "force-compression",
  "oci-mediatypes",
  "source-date-epoch",
  "containerimage.config",
  "buildinfo",
  "buildinfo-attrs",
  "attestation-inline",
  "prefer-nondist-layers",
] as const;

/** The attributes an image exporter knows: its own, the shared ones and any annotation. */
export function knownImageAttrs(attrs: Readonly<Record<string, string>>, own: readonly string[]): string[] {
  return [...IMAGE_ATTRS, ...own, ...Object.keys(attrs).filter(isAnnotationAttr)];
}

export interface ImageOptions {
  readonly compression: Compression;
  /** undefined: the compressor's default level. */
  readonly level?: number;
  /** force-compression: existing layer blobs are converted to the compression too. */
  readonly force: boolean;
  /** OCI media types (true) or Docker schema2 ones. */
  readonly oci: boolean;
  /** The creation time, seconds since the epoch; undefined: the time of the export. */
  readonly epoch?: number;
  /** The names, from `name=a,b` (a quoted field of `--output`) as BuildKit splits it. */
  readonly names: readonly ImageRef[];
  /** annotation.* attributes, applied per image (annotations.ts). */
  readonly annotations: readonly AnnotationAttr[];
  /** `containerimage.config`: the container settings (Entrypoint, Cmd, Env, …) of an image config JSON. */
  readonly config?: ContainerConfig;
  /** `buildinfo` (default true): the build information goes into the image config. */
  readonly buildInfo: boolean;
  /** `buildinfo-attrs` (default false): with the frontend's attributes. */
  readonly buildInfoAttrs: boolean;
  /** Warnings for the export's vertex (settings BuildKit overrides, as it logs them). */
  readonly notes: readonly string[];
}

/**
 * A boolean attribute (parseGoBool's spellings); fallback when absent. empty: what the key given
 * with no value means (true for most; BuildKit reads buildinfo-attrs= as false, and refuses it
 * for the attributes it parses with a plain strconv.ParseBool).
 */
export function parseBool(type: string, key: string, value: string | undefined, fallback: boolean, empty: boolean | "refused" = true): boolean {
  if (value === undefined) return fallback;
  if (value === "" && empty !== "refused") return empty;
  const b = value === "" ? undefined : parseGoBool(value);
  if (b === undefined) throw invalidArgument(`output type=${type}: ${key} must be true or false, not "${value}"`);
  return b;
}

function parseCompression(type: string, value: string | undefined, fallback: Compression): Compression {
  if (value === undefined) return fallback;
  const found = compressionNamed(value);
  if (!found) throw invalidArgument(`output type=${type}: compression must be gzip, zstd or uncompressed, not "${value}"`);
  return found;
}

function parseLevel(type: string, compression: Compression, value: string | undefined): number | undefined {
  try {
    return parseCompressionLevel(compression, value);
  } catch (err) {
    throw invalidArgument(`output type=${type}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function parseEpoch(type: string, attr: string | undefined): number | undefined {
  const env = process.env.SOURCE_DATE_EPOCH;
  return parseSourceDateEpoch(type, attr ?? (env === "" ? undefined : env));
}

export function parseNames(type: string, value: string | undefined): ImageRef[] {
  if (value === undefined || value === "") return [];
  return value.split(",").map((name) => {
    try {
      const ref = parseImageRef(name.trim());
      if (ref.digest) throw new Error("a digest cannot be exported to; give a tag");
      return ref;
    } catch (err) {
      throw invalidArgument(`output type=${type}: name ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}

/**
 * Parses the shared attributes. zstd layers have no Docker media type that every tool reads,
 * and Docker manifests and lists carry no annotations, so zstd or descriptor and index
 * annotations switch to OCI media types, also over oci-mediatypes=false (with a warning), as
 * BuildKit forces them. Index annotations need an index: refused at export for one platform.
 */
export function parseImageOptions(type: string, attrs: Readonly<Record<string, string>>, defaults: { compression: Compression; oci: boolean }): ImageOptions {
  const compression = parseCompression(type, attrs.compression, defaults.compression);
  const level = parseLevel(type, compression, attrs["compression-level"]);
  const force = parseBool(type, "force-compression", attrs["force-compression"], false);
  const explicitOci = attrs["oci-mediatypes"] === undefined ? undefined : parseBool(type, "oci-mediatypes", attrs["oci-mediatypes"], defaults.oci);
  const annotations = parseAnnotationAttrs(type, attrs);
  // Index annotations need an index: refused at export time for a single-platform result.
  const onDescriptors = annotations.some((a) => a.kind !== "manifest");
  // As BuildKit's EnableOCITypes: zstd layers and index or descriptor annotations have no Docker
  // media types, so OCI ones are used even when oci-mediatypes=false was asked for, with a warning.
  const forcedBy = compression === "zstd" ? "zstd" : onDescriptors ? "annotations" : undefined;
  const oci = forcedBy !== undefined ? true : (explicitOci ?? defaults.oci);
  const notes = forcedBy !== undefined && explicitOci === false ? [`forcibly turning on oci-mediatype mode for ${forcedBy}`] : [];
  for (const key of ["attestation-inline", "prefer-nondist-layers"]) parseBool(type, key, attrs[key], false, "refused");
  const buildInfo = parseBool(type, "buildinfo", attrs.buildinfo, true);
  const buildInfoAttrs = parseBool(type, "buildinfo-attrs", attrs["buildinfo-attrs"], false, false);
  const config = parseConfig(type, attrs["containerimage.config"]);
  return { compression, level, force, oci, epoch: parseEpoch(type, attrs["source-date-epoch"]), names: parseNames(type, attrs.name), annotations, buildInfo, buildInfoAttrs, notes, ...(config ? { config } : {}) };
}

/** An image config JSON given as an attribute, as BuildKit's exporters take it: its `config` part. */
function parseConfig(type: string, value: string | undefined): ContainerConfig | undefined {
  if (value === undefined || value === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw invalidArgument(`output type=${type}: containerimage.config: ${err instanceof Error ? err.message : String(err)}`);
  }
  const config = (parsed as { config?: unknown } | null)?.config;
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw invalidArgument(`output type=${type}: containerimage.config: expected {"config": {...}}`);
  return config as ContainerConfig;
}
