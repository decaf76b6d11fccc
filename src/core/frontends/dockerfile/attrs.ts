/**
 * The dockerfile.v0 frontend's attributes, named as BuildKit's frontend/dockerfile/builder
 * reads them (buildctl's `--opt K=V`). Attributes that would change the build in ways this
 * frontend does not implement are refused rather than silently ignored; unknown ones are
 * ignored, as BuildKit ignores them.
 */
import { BuildkitError, invalidArgument } from "../../errors.ts";
import { parsePlatform, type Platform } from "../../llb/platform.ts";

export interface DockerfileAttrs {
  /** The Dockerfile's path in the dockerfile local (`filename`, default "Dockerfile"). */
  readonly filename: string;
  /** Local names (`dockerfilekey`, `contextkey`). */
  readonly dockerfileLocal: string;
  readonly contextLocal: string;
  readonly target?: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  /** `label:K=V`: labels set on the target's image config. */
  readonly labels: Readonly<Record<string, string>>;
  /** `platform`: the target platform, when given. */
  readonly platform?: Platform;
  /** `no-cache`: undefined (use the cache), [] (every stage) or stage names. */
  readonly noCache?: readonly string[];
}

/** Attributes BuildKit applies that this frontend does not yet: refused when set. */
const UNSUPPORTED = ["contextsubdir", "add-hosts", "shm-size", "ulimit", "cgroup-parent", "force-network-mode", "hostname", "image-resolve-mode", "build-arg:SOURCE_DATE_EPOCH"];

const prefixed = (opts: Readonly<Record<string, string>>, prefix: string): Record<string, string> =>
  Object.fromEntries(Object.entries(opts).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));

export function parseDockerfileAttrs(opts: Readonly<Record<string, string>>): DockerfileAttrs {
  for (const key of UNSUPPORTED) {
    if (opts[key]) throw new BuildkitError("Unimplemented", `dockerfile frontend: attribute ${key} is not supported`);
  }
  const contextLocal = opts.contextkey || "context";
  const context = opts[contextLocal];
  if (context && /^(https?:\/\/|git@|git:\/\/|ssh:\/\/)|\.git(#|$)/.test(context)) {
    throw new BuildkitError("Unimplemented", `dockerfile frontend: remote build contexts are not supported (${context})`);
  }
  let platform: Platform | undefined;
  if (opts.platform) {
    if (opts.platform.includes(",")) throw new BuildkitError("Unimplemented", `dockerfile frontend: building for several platforms (${opts.platform}) is not supported`);
    try {
      platform = parsePlatform(opts.platform);
    } catch (err) {
      throw invalidArgument(`dockerfile frontend: parsing platform ${opts.platform}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const noCache = opts["no-cache"] === undefined ? undefined : opts["no-cache"] === "" ? [] : opts["no-cache"].split(",");
  return {
    filename: opts.filename || "Dockerfile",
    dockerfileLocal: opts.dockerfilekey || "dockerfile",
    contextLocal,
    target: opts.target || undefined,
    buildArgs: prefixed(opts, "build-arg:"),
    labels: prefixed(opts, "label:"),
    platform,
    noCache,
  };
}
