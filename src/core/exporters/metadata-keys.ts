import type { Platform } from "../llb/platform.ts";
import { formatPlatform } from "../llb/platform.ts";

/** Keys of a build result's metadata that exporters read (BuildKit's exporter/containerimage/exptypes). */

/** The image config JSON a frontend made for the result (exptypes.ExporterImageConfigKey). */
export const IMAGE_CONFIG_KEY = "containerimage.config";
/** JSON `{"Platforms":[{"ID","Platform"}]}` naming the result's platforms (exptypes.ExporterPlatformsKey). */
export const PLATFORMS_KEY = "refs.platforms";

/** One entry of refs.platforms: a result's platform and the ID its keys and refs use. */
export interface PlatformEntry {
  readonly id: string;
  readonly platform: Platform;
}

/** refs.platforms as Go marshals exptypes.Platforms. */
export function platformsJson(list: readonly Platform[]): string {
  return JSON.stringify({ Platforms: list.map((p) => ({ ID: formatPlatform(p), Platform: { architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) } })) });
}

/** refs.platforms read back; throws when it is not JSON. */
export function parsePlatformsJson(raw: Uint8Array): PlatformEntry[] {
  let parsed: { Platforms?: { ID?: string; Platform?: { os?: string; architecture?: string; variant?: string } }[] } | null;
  try {
    parsed = JSON.parse(new TextDecoder().decode(raw)) as typeof parsed;
  } catch (err) {
    throw new Error(`failed to parse platforms passed to provenance processor: ${err instanceof Error ? err.message : String(err)}`);
  }
  return (parsed?.Platforms ?? []).map((p) => ({
    id: p.ID ?? "",
    platform: { os: p.Platform?.os ?? "", architecture: p.Platform?.architecture ?? "", ...(p.Platform?.variant ? { variant: p.Platform.variant } : {}) },
  }));
}
