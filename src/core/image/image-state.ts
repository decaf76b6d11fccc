import { image, type ImageOptions, type State } from "../llb/index.ts";
import { hostPlatform, type Platform } from "../llb/platform.ts";
import type { RegistryClient } from "../registry/index.ts";

/**
 * A registry image as a State whose exec steps get the image's environment, working
 * directory and user: the config is fetched now, at graph-building time, as BuildKit's
 * client does with a meta resolver (the engine itself never adds them). With `pin`, the
 * source names the resolved digest, so the graph keeps meaning exactly this image.
 */
export async function resolvedImage(
  ref: string,
  opts: { registry: RegistryClient; platform?: Platform; pin?: boolean; signal?: AbortSignal } & ImageOptions,
): Promise<State> {
  const { registry, pin, signal, ...imageOpts } = opts;
  const platform = opts.platform ?? { os: "linux", architecture: hostPlatform().architecture };
  const resolved = await registry.resolve(ref, platform, signal ?? new AbortController().signal);
  const config = resolved.config.config ?? {};
  const s = image(pin ? resolved.ref : ref, { ...imageOpts, platform }).withImageConfig(config);
  // Go's WithImageConfig leaves the user to the caller (the Dockerfile frontend sets it itself).
  return config.User ? s.user(config.User) : s;
}
