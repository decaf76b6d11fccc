/**
 * Resolving an image reference in one of BuildKit's resolve modes (the `image.resolvemode` attr
 * of an image source, the frontend's `image-resolve-mode`), as util/resolver/pool.go's Resolver
 * with an image store does: `pull` asks the registry only; `local` takes an image of that name
 * from the worker's image store first, else the registry; `default` asks the registry and falls
 * back to the image store when the registry fails.
 */
import { BuildkitError } from "../../errors.ts";
import type { ResolveMode } from "../../llb/index.ts";
import type { Platform } from "../../llb/platform.ts";
import type { RegistryClient, ResolvedImage } from "../../registry/index.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import { resolveFromStore, resolveNamedFromStore } from "./local-resolve.ts";

export interface ModeResolveDeps {
  readonly registry: () => Promise<RegistryClient>;
  /** The worker's content store and state root, where named images (images.json) are. */
  readonly content: ContentStore;
  readonly root: string;
}

export interface ModeResolved {
  readonly image: ResolvedImage;
  /** Where the answer came from. */
  readonly from: "registry" | "image-store" | "content";
}

/** An `image.resolvemode` value (source/identifier.go's ParseImageResolveMode). */
export function parseResolveModeAttr(v: string | undefined): ResolveMode {
  if (v === undefined || v === "" || v === "default") return "default";
  if (v === "pull" || v === "local") return v;
  throw new BuildkitError("InvalidArgument", `invalid resolvemode: ${v}`);
}

export async function resolveByMode(ref: string, platform: Platform, mode: ResolveMode, deps: ModeResolveDeps, signal: AbortSignal): Promise<ModeResolved> {
  const named = () => resolveNamedFromStore(deps.content, deps.root, ref, platform);
  if (mode === "local") {
    const image = await named();
    if (image !== undefined) return { image, from: "image-store" };
  }
  try {
    return { image: await (await deps.registry()).resolve(ref, platform, signal), from: "registry" };
  } catch (err) {
    if (mode === "default" && !signal.aborted) {
      const image = await named().catch(() => undefined);
      if (image !== undefined) return { image, from: "image-store" };
    }
    throw err;
  }
}

/**
 * An image's config as a frontend or gateway client asks for it (BuildKit's imageutil.Config):
 * a digest-pinned ref whose blobs are in the content store is read from there, without the
 * network, whatever the mode; anything else resolves by the mode.
 */
export async function resolveImageForConfig(ref: string, platform: Platform, mode: ResolveMode, deps: ModeResolveDeps, signal: AbortSignal): Promise<ModeResolved> {
  const local = await resolveFromStore(deps.content, ref, platform);
  if (local !== undefined) return { image: local, from: "content" };
  return resolveByMode(ref, platform, mode, deps, signal);
}
