/**
 * Manifest media types the client asks for, and checked parsing of manifests, indexes and
 * configs fetched from a registry (untrusted JSON → the OCI types).
 */
import { isDigest } from "../digest.ts";
import { BuildkitError } from "../errors.ts";
import { MediaType } from "../image/oci-types.ts";
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, OciPlatform } from "../image/oci-types.ts";

export { MediaType };
export type { Descriptor, ImageConfig, ImageIndex, ImageManifest, OciPlatform };

export const INDEX_MEDIA_TYPES: readonly string[] = [MediaType.ociIndex, MediaType.dockerManifestList];
export const MANIFEST_MEDIA_TYPES: readonly string[] = [MediaType.ociManifest, MediaType.dockerManifest];

/** The Accept header for manifest requests: indexes and image manifests, OCI and Docker. */
export const MANIFEST_ACCEPT = [...INDEX_MEDIA_TYPES, ...MANIFEST_MEDIA_TYPES, "*/*;q=0.8"].join(", ");

/** Manifests and configs are small; anything larger is refused before it is read whole. */
export const MAX_MANIFEST_BYTES = 4 << 20;
export const MAX_CONFIG_BYTES = 32 << 20;

export type ParsedManifest =
  | { readonly kind: "index"; readonly mediaType: string; readonly index: ImageIndex }
  | { readonly kind: "manifest"; readonly mediaType: string; readonly manifest: ImageManifest };

type Json = Record<string, unknown>;

function bad(what: string, why: string): BuildkitError {
  return new BuildkitError("InvalidArgument", `parsing ${what}: ${why}`);
}

function parseJson(bytes: Uint8Array, what: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw bad(what, err instanceof Error ? err.message : String(err));
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad(what, "not a JSON object");
  return value as Json;
}

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkPlatform(value: unknown, what: string): OciPlatform | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || typeof value.os !== "string" || typeof value.architecture !== "string") {
    throw bad(what, "platform needs os and architecture");
  }
  return value as unknown as OciPlatform;
}

/** Checks a descriptor's required fields (mediaType, sha256 digest, non-negative size). */
export function checkDescriptor(value: unknown, what: string): Descriptor {
  if (!isRecord(value)) throw bad(what, "descriptor is not an object");
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== "string" || mediaType === "") throw bad(what, "descriptor without mediaType");
  if (typeof digest !== "string" || !isDigest(digest)) throw bad(what, `unsupported digest ${String(digest)}`);
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw bad(what, `invalid size for ${digest}`);
  checkPlatform(value.platform, what);
  return value as unknown as Descriptor;
}

function mediaTypeOf(json: Json, contentType: string | undefined): string {
  if (typeof json.mediaType === "string" && json.mediaType !== "") return json.mediaType;
  if (Array.isArray(json.manifests)) return MediaType.ociIndex;
  if (isRecord(json.config) && Array.isArray(json.layers)) return MediaType.ociManifest;
  return contentType?.split(";")[0]?.trim() ?? "";
}

/** Parses manifest bytes; `what` names it in errors (e.g. the ref). */
export function parseManifest(bytes: Uint8Array, what: string, contentType?: string): ParsedManifest {
  const json = parseJson(bytes, what);
  if (json.schemaVersion === 1) {
    throw new BuildkitError("Unimplemented", `parsing ${what}: Docker schema 1 manifests are not supported`);
  }
  if (json.schemaVersion !== 2) throw bad(what, `unsupported schemaVersion ${String(json.schemaVersion)}`);
  const mediaType = mediaTypeOf(json, contentType);
  if (INDEX_MEDIA_TYPES.includes(mediaType)) {
    if (!Array.isArray(json.manifests)) throw bad(what, "index without manifests");
    json.manifests.forEach((m) => checkDescriptor(m, what));
    return { kind: "index", mediaType, index: json as unknown as ImageIndex };
  }
  if (MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    checkDescriptor(json.config, what);
    if (!Array.isArray(json.layers)) throw bad(what, "manifest without layers");
    json.layers.forEach((l) => checkDescriptor(l, what));
    return { kind: "manifest", mediaType, manifest: json as unknown as ImageManifest };
  }
  throw new BuildkitError("Unimplemented", `parsing ${what}: unsupported manifest media type "${mediaType}"`);
}

/** Parses an image config, checking the fields a build relies on. */
export function parseImageConfig(bytes: Uint8Array, what: string): ImageConfig {
  const json = parseJson(bytes, what);
  if (typeof json.os !== "string" || typeof json.architecture !== "string") throw bad(what, "config needs os and architecture");
  const rootfs = json.rootfs;
  if (!isRecord(rootfs) || !Array.isArray(rootfs.diff_ids)) throw bad(what, "config without rootfs.diff_ids");
  for (const id of rootfs.diff_ids) {
    if (typeof id !== "string" || !isDigest(id)) throw bad(what, `unsupported diff_id ${String(id)}`);
  }
  if (json.config !== undefined && json.config !== null && !isRecord(json.config)) throw bad(what, "config.config is not an object");
  if (json.history !== undefined && !Array.isArray(json.history)) throw bad(what, "history is not an array");
  return json as unknown as ImageConfig;
}

