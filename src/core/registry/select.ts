/**
 * Picking the image manifest for a platform from an index, as containerd's images.Manifest
 * does: entries whose platform matches (closest first), then entries without a platform, whose
 * config must then name a matching platform; nested indexes are followed.
 */
import type { Digest } from "../digest.ts";
import { BuildkitError } from "../errors.ts";
import { formatPlatform } from "../llb/platform.ts";
import type { Platform } from "../llb/platform.ts";
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES } from "./manifest.ts";
import type { Descriptor, ImageConfig, ImageManifest, ParsedManifest } from "./manifest.ts";
import { fromOciPlatform, onlyPlatform } from "./platform-match.ts";
import type { PlatformMatcher } from "./platform-match.ts";

export interface ManifestDoc {
  readonly bytes: Uint8Array;
  readonly digest: Digest;
  readonly parsed: ParsedManifest;
}

export interface LoadedConfig {
  readonly config: ImageConfig;
  readonly bytes: Uint8Array;
}

export interface ChosenManifest {
  readonly manifest: ImageManifest;
  readonly bytes: Uint8Array;
  readonly digest: Digest;
  readonly mediaType: string;
  /** Set when the config had to be read to check the platform. */
  readonly config?: LoadedConfig;
}

export interface SelectIO {
  fetchChild(d: Descriptor): Promise<ManifestDoc>;
  loadConfig(d: Descriptor): Promise<LoadedConfig>;
}

const MAX_DEPTH = 4;

/** The index entries that may serve the platform, best first (stable). */
export function orderCandidates(manifests: readonly Descriptor[], matcher: PlatformMatcher): Descriptor[] {
  const usable = manifests.filter(
    (d) =>
      (MANIFEST_MEDIA_TYPES.includes(d.mediaType) || INDEX_MEDIA_TYPES.includes(d.mediaType)) &&
      (d.platform === undefined || matcher.match(fromOciPlatform(d.platform))),
  );
  return usable
    .map((d, i) => ({ d, i }))
    .sort((a, b) => {
      const pa = a.d.platform;
      const pb = b.d.platform;
      if (pa && pb) {
        const x = fromOciPlatform(pa);
        const y = fromOciPlatform(pb);
        if (matcher.less(x, y)) return -1;
        if (matcher.less(y, x)) return 1;
        return a.i - b.i;
      }
      if (pa) return -1;
      if (pb) return 1;
      return a.i - b.i;
    })
    .map(({ d }) => d);
}

function chosen(doc: ManifestDoc, manifest: ImageManifest, mediaType: string, config?: LoadedConfig): ChosenManifest {
  return { manifest, bytes: doc.bytes, digest: doc.digest, mediaType, config };
}

async function fromIndex(top: ManifestDoc, manifests: readonly Descriptor[], matcher: PlatformMatcher, io: SelectIO, depth: number): Promise<ChosenManifest | undefined> {
  for (const d of orderCandidates(manifests, matcher)) {
    const child = await io.fetchChild(d);
    if (child.parsed.kind === "index") {
      if (depth >= MAX_DEPTH) throw new BuildkitError("InvalidArgument", `index ${top.digest}: indexes nested too deep`);
      const found = await fromIndex(child, child.parsed.index.manifests, matcher, io, depth + 1);
      if (found) return found;
      continue;
    }
    if (d.platform !== undefined) return chosen(child, child.parsed.manifest, child.parsed.mediaType);
    const config = await io.loadConfig(child.parsed.manifest.config);
    const p = { os: config.config.os, architecture: config.config.architecture, variant: config.config.variant };
    if (matcher.match(p)) return chosen(child, child.parsed.manifest, child.parsed.mediaType, config);
  }
  return undefined;
}

/**
 * The image manifest for platform: top itself when it is one (as BuildKit, whatever its
 * config's platform), else the best match in the index; NotFound when nothing matches.
 */
export async function selectManifest(top: ManifestDoc, platform: Platform, io: SelectIO): Promise<ChosenManifest> {
  if (top.parsed.kind === "manifest") return chosen(top, top.parsed.manifest, top.parsed.mediaType);
  const matcher = onlyPlatform(platform);
  const found = await fromIndex(top, top.parsed.index.manifests, matcher, io, 1);
  if (found) return found;
  throw new BuildkitError("NotFound", `no match for platform ${formatPlatform(platform)} in index ${top.digest}`);
}
