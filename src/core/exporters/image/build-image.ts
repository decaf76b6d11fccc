/**
 * A result as an image in the content store: layers (image-layers.ts), config and manifest
 * blobs, OCI or Docker schema2 media types. Every exporter that makes an image starts here.
 */
import { putBlob } from "../../content/blobs.ts";
import { sha256, type Digest } from "../../digest.ts";
import { layerMediaType } from "../../image/compression.ts";
import type { Descriptor, OciPlatform } from "../../image/oci-types.ts";
import { hostPlatform, type Platform } from "../../llb/platform.ts";
import { exportedAttestations, NO_EXPORT_PROGRESS, type BuildResult, type ExportProgress, type PlatformResult } from "../exporter.ts";
import { commitAttestationManifest } from "./attestation-manifest.ts";
import { resultLayers } from "../../image/image-layers.ts";
import type { ChainLayer, LayerContext } from "../../image/image-layers.ts";
import type { ImageOptions } from "./attrs.ts";
import { goJSON, goJSONIndent, goSorted } from "../../go-json.ts";
import { IMAGE_CONFIG_KEY, parsePlatformsJson, PLATFORMS_KEY } from "../metadata-keys.ts";
import { annotationsFor } from "./annotations.ts";
import { invalidArgument } from "../../errors.ts";
import { patchImageConfig } from "./patch-config.ts";
import { defaultImageConfig, mediaTypes } from "./image-config.ts";
import { rfc3339 } from "../../go-time.ts";
import { BUILDINFO_METADATA_KEY, formatBuildInfo } from "../../provenance/build-info.ts";

export interface BuiltImage {
  /** The manifest's descriptor as BuildKit returns it: with its platform and descriptor annotations. */
  readonly manifest: Descriptor;
  readonly config: Descriptor;
  /** Layer descriptors as the manifest lists them; their blobs are in the content store. */
  readonly layers: readonly Descriptor[];
  readonly diffIDs: readonly Digest[];
  /** Snapshots whose layer blob was reused from an earlier export. */
  readonly reused: number;
  readonly platform: Platform;
}

const encoder = new TextEncoder();

/** The result's platform: the frontend's (exptypes.ExporterPlatformsKey), else the worker's. */
function resultPlatform(result: BuildResult): Platform {
  const raw = result.metadata?.[PLATFORMS_KEY];
  if (raw !== undefined) {
    try {
      const p = parsePlatformsJson(raw)[0]?.platform;
      if (p?.os && p.architecture) return p;
    } catch {
      // Not JSON: the worker's platform, as when there is none.
    }
  }
  return result.worker?.platforms[0] ?? hostPlatform();
}

/** ocispecs.Descriptor's field order, annotations sorted as Go writes a map. */
export function goDescriptor(d: Descriptor): Descriptor {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.urls?.length ? { urls: d.urls } : {}),
    ...(d.annotations && Object.keys(d.annotations).length > 0 ? { annotations: goSorted(d.annotations) } : {}),
    ...(d.platform ? { platform: goPlatform(d.platform) } : {}),
    ...(d.artifactType ? { artifactType: d.artifactType } : {}),
  };
}

function goPlatform(p: OciPlatform): OciPlatform {
  return {
    architecture: p.architecture,
    os: p.os,
    ...(p["os.version"] ? { "os.version": p["os.version"] } : {}),
    ...(p["os.features"]?.length ? { "os.features": p["os.features"] } : {}),
    ...(p.variant ? { variant: p.variant } : {}),
  };
}

export interface BuildImageOptions extends ImageOptions {
  readonly signal: AbortSignal;
  /** The exporter's type, for messages. */
  readonly exporter: string;
  readonly progress?: ExportProgress;
  /** Export inline-only attestations too (the image exporter; BuildKit's ForceInlineAttestations). */
  readonly forceInlineAttestations?: boolean;
}

/** What an image export made: one image, or one per platform under an index. */
export interface BuiltOutput {
  /** The top-level descriptor: the image's manifest, or the index (as BuildKit returns it). */
  readonly top: Descriptor;
  readonly images: readonly BuiltImage[];
  /** The attestation manifests the index lists after the images (platform unknown/unknown): statements as layers. */
  readonly attestations?: readonly BuiltImage[];
  /** The single image's config (containerimage.config.digest); none for an index. */
  readonly config?: Descriptor;
}

/** Every blob of the output, each after what it points at: per image (then attestation manifest) its layers, config and manifest, then the top (the index); the single image's manifest appears twice. */
export function outputBlobs(built: BuiltOutput): Descriptor[] {
  return [...[...built.images, ...(built.attestations ?? [])].flatMap((image) => [...image.layers, image.config, image.manifest]), built.top];
}

/** The result as an image, or, for a multi-platform result, an image per platform and their index. */
export async function buildOutput(result: BuildResult, ctx: LayerContext, opts: BuildImageOptions): Promise<BuiltOutput> {
  for (const note of opts.notes) opts.progress?.warn?.(note);
  const forceInline = opts.forceInlineAttestations === true;
  // Attestations make an index even of one platform (BuildKit's writer turns isMap on for them).
  const single = result.platforms ? undefined : exportedAttestations(result, { forceInline }).length > 0 ? [{ id: "", platform: resultPlatform(result), result }] : undefined;
  if (!result.platforms && !single) {
    if (opts.annotations.some((a) => a.kind === "index" || a.kind === "index-descriptor")) {
      throw invalidArgument(`output type=${opts.exporter}: index annotations not supported for single platform export`);
    }
    const image = await buildImage(result, ctx, opts);
    return { top: image.manifest, images: [image], config: image.config };
  }
  const progress = opts.progress ?? NO_EXPORT_PROGRESS;
  const parts: readonly Pick<PlatformResult, "platform" | "result">[] = result.platforms ?? single ?? [];
  const attested = parts.some((p) => exportedAttestations(p.result, { forceInline }).length > 0);
  // Attestations force OCI media types (EnableOCITypes("attestations")).
  if (attested) opts = { ...opts, oci: true };
  const all = parts.map((p) => p.platform);
  const images: BuiltImage[] = [];
  const attestations: BuiltImage[] = [];
  for (const part of parts) {
    const image = await buildImage(part.result, ctx, { ...opts, platform: part.platform, platforms: all });
    images.push(image);
    const atts = exportedAttestations(part.result, { forceInline });
    if (atts.length > 0) attestations.push(await commitAttestationManifest(ctx.store, image, atts, { names: opts.names, oci: opts.oci, step: progress.step.bind(progress) }));
  }
  const annotations = annotationsFor(opts.exporter, opts.annotations, all[0]!, all);
  const bytes = encoder.encode(indexJson(opts.oci ? OCI_INDEX : DOCKER_MANIFEST_LIST, [...images, ...attestations], annotations.index));
  const desc = await progress.step(`exporting manifest list ${sha256(bytes)}`, () => putBlob(ctx.store, opts.oci ? OCI_INDEX : DOCKER_MANIFEST_LIST, bytes));
  return { top: goDescriptor({ ...desc, annotations: annotations.indexDescriptor }), images, ...(attestations.length > 0 ? { attestations } : {}) };
}

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";

/**
 * The index's bytes as BuildKit v0.11's writer marshals them (MarshalIndent, two spaces):
 * mediaType, then ocispecs.Index's schemaVersion, manifests (each with its platform) and
 * annotations.
 */
function indexJson(mediaType: string, images: readonly BuiltImage[], annotations: Readonly<Record<string, string>>): string {
  return goJSONIndent({
    mediaType,
    schemaVersion: 2,
    manifests: images.map((i) => goDescriptor(i.manifest)),
    ...(Object.keys(annotations).length > 0 ? { annotations: goSorted(annotations) } : {}),
  });
}

/** One image; `platform` (with all of a multi-platform export's `platforms`) when the caller knows it. */
export async function buildImage(result: BuildResult, ctx: LayerContext, opts: BuildImageOptions & { platform?: Platform; platforms?: readonly Platform[] }): Promise<BuiltImage> {
  const progress = opts.progress ?? NO_EXPORT_PROGRESS;
  const platform = opts.platform ?? resultPlatform(result);
  const annotations = annotationsFor(opts.exporter, opts.annotations, platform, opts.platforms);
  const chain = await progress.step("exporting layers", () => resultLayers(result, ctx, { compression: opts.compression, level: opts.level, force: opts.force, signal: opts.signal }));
  const types = mediaTypes(opts.oci);
  const withBlobs = chain.filter((l): l is ChainLayer & { blob: NonNullable<ChainLayer["blob"]> } => l.blob !== undefined);
  // Each layer's own compression: a kept blob (a pulled base layer, say) may differ from the one asked for.
  const layers: Descriptor[] = withBlobs.map((l) => ({ mediaType: layerMediaType(l.blob.compression, opts.oci), digest: l.blob.digest, size: l.blob.size }));
  const created = rfc3339(opts.epoch === undefined ? Date.now() : opts.epoch * 1000);
  // `--export-cache type=inline`: the build's records for these layers, in the config (base64, as Go writes []byte).
  const inline = await result.inlineCache?.(withBlobs.map((l) => ({ digest: l.blob.digest, diffID: l.blob.diffID })), { compression: opts.compression, level: opts.level, force: opts.force });
  const inlineCache = inline === undefined ? {} : { inlineCache: Buffer.from(inline).toString("base64") };
  // The frontend's config, else BuildKit's default, completed and written as BuildKit does.
  const base = result.metadata?.[IMAGE_CONFIG_KEY] ?? defaultImageConfig(platform, opts.config);
  // Build information, attributes left out unless asked for (base64, as Go writes []byte).
  const info = opts.buildInfo ? formatBuildInfo(result.metadata?.[BUILDINFO_METADATA_KEY], { keepAttrs: opts.buildInfoAttrs }) : undefined;
  const buildInfo = info === undefined ? {} : { buildInfo: Buffer.from(info).toString("base64") };
  const configText = goJSON(patchImageConfig(base, { layers: chain, created, epoch: opts.epoch === undefined ? undefined : rfc3339(opts.epoch * 1000), ...inlineCache, ...buildInfo }));
  // The manifest first, then its config, as BuildKit's writer reports them (both digests known before either is written).
  const configBytes = encoder.encode(configText);
  const configDesc: Descriptor = { mediaType: types.config, digest: sha256(configBytes), size: configBytes.byteLength };
  const manifestBytes = encoder.encode(manifestJson(types.manifest, configDesc, layers, annotations.manifest));
  const manifest = await progress.step(`exporting manifest ${sha256(manifestBytes)}`, () => putBlob(ctx.store, types.manifest, manifestBytes));
  const config = await progress.step(`exporting config ${configDesc.digest}`, () => putBlob(ctx.store, types.config, configBytes));
  const descriptor = goDescriptor({ ...manifest, annotations: annotations.manifestDescriptor, platform: ociPlatform(platform) });
  return { manifest: descriptor, config, layers, diffIDs: withBlobs.map((l) => l.blob.diffID), reused: chain.filter((l) => l.reused).length, platform };
}

/**
 * The manifest's bytes as BuildKit v0.11's writer marshals them (MarshalIndent, two spaces):
 * mediaType first, then ocispecs.Manifest's fields; no layers is null, as a nil Go slice.
 */
function manifestJson(mediaType: string, config: Descriptor, layers: readonly Descriptor[], annotations: Readonly<Record<string, string>>): string {
  return goJSONIndent({
    mediaType,
    schemaVersion: 2,
    config: goDescriptor(config),
    layers: layers.length > 0 ? layers.map(goDescriptor) : null,
    ...(Object.keys(annotations).length > 0 ? { annotations: goSorted(annotations) } : {}),
  });
}

function ociPlatform(p: Platform): OciPlatform {
  return { architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) };
}
