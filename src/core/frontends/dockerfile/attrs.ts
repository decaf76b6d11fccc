/**
 * The dockerfile.v0 frontend's attributes, named as BuildKit's frontend/dockerfile/builder
 * reads them (buildctl's `--opt K=V`). Attributes that would change the build in ways this
 * frontend does not implement are refused rather than silently ignored; unknown ones are
 * ignored, as BuildKit ignores them.
 */
import { BuildkitError, invalidArgument } from "../../errors.ts";
import type { HostIP, NetMode, ResolveMode, Ulimit } from "../../llb/index.ts";
import { normalizePlatform, parsePlatform, type Platform } from "../../llb/platform.ts";
import { parseGoBool } from "../../go-bool.ts";
import { rfc3339Seconds } from "../../go-time.ts";
import { parseExtraHosts, parseGoInt64, parseNetMode, parseResolveMode, parseShmSize, parseUlimits } from "./attr-parsers.ts";

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
  /** `context:NAME[::PLATFORM]=SPEC`: named build contexts (named-contexts.ts). */
  readonly namedContexts: Readonly<Record<string, string>>;
  /** `platform`: the target platform, when given (the first, when several are). */
  readonly platform?: Platform;
  /** `platform=a,b`: every target platform (empty when none is given). */
  readonly platforms: readonly Platform[];
  /** The result is one per platform (several platforms, or `multi-platform`/BUILDKIT_MULTI_PLATFORM). */
  readonly multiPlatform: boolean;
  /** `no-cache`: undefined (use the cache), [] (every stage) or stage names. */
  readonly noCache?: readonly string[];
  /** `image-resolve-mode`: how base images resolve (the frontend's lookups and the image sources). */
  readonly imageResolveMode: ResolveMode;
  /** `add-hosts`: /etc/hosts entries of every RUN. */
  readonly extraHosts: readonly HostIP[];
  /** `shm-size`: bytes of a /dev/shm tmpfs on every RUN; 0 for none. */
  readonly shmSize: number;
  /** `ulimit`: resource limits of every RUN. */
  readonly ulimits: readonly Ulimit[];
  /** `force-network-mode`: every stage's network (RUN --network overrides it). */
  readonly forceNetMode: NetMode;
  /** `hostname`, or the BUILDKIT_SANDBOX_HOSTNAME build arg when set: every stage's hostname. */
  readonly hostname?: string;
  /** The BUILDKIT_CACHE_MOUNT_NS build arg: cache mount ids are `NS/ID`. */
  readonly cacheIDNamespace: string;
  /** build-arg:SOURCE_DATE_EPOCH as RFC 3339 (whole seconds, UTC), when given. */
  readonly sourceDateEpoch?: string;
}

/**
 * Attributes BuildKit applies that this frontend cannot: refused when set. cgroup-parent needs
 * an executor that places the step in a cgroup (ours does not; the gateway advertises the cap
 * as unsupported). `contextsubdir` is accepted: BuildKit v0.11.6 scopes only a git, http or
 * frontend-input context with it (build.go's scopeToSubDir), and leaves a local context, the only
 * kind this frontend takes, whole; so does this frontend.
 */
const UNSUPPORTED = ["cgroup-parent"];

/** build.go's parseSourceDateEpoch: seconds (strconv.ParseInt), as the UTC time Go marshals; "" is none. */
function parseSourceDateEpochArg(v: string): string | undefined {
  if (v === "") return undefined;
  return rfc3339Seconds(parseGoInt64(v) * 1000);
}

/** One attribute's value through its parser; a bad value is an InvalidArgument naming the attribute. */
function attr<T>(opts: Readonly<Record<string, string>>, key: string, parse: (v: string) => T, wrap = ""): T {
  const value = opts[key] ?? "";
  try {
    return parse(value);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw invalidArgument(`dockerfile frontend: attribute ${key}=${JSON.stringify(value)}: ${wrap}${why}`);
  }
}

/** `multi-platform` (strconv.ParseBool) over the default, several platforms; false with several is refused (builder/build.go). */
function parseMultiPlatform(value: string | undefined, several: boolean): boolean {
  if (value === undefined || value === "") return several;
  const b = parseGoBool(value);
  if (b === undefined) throw invalidArgument(`invalid boolean value ${value}`);
  if (!b && several) throw invalidArgument("returning multiple target platforms is not allowed");
  return b;
}

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
  const platforms: Platform[] = [];
  for (const spec of opts.platform ? opts.platform.split(",") : []) {
    try {
      platforms.push(normalizePlatform(parsePlatform(spec.trim())));
    } catch (err) {
      throw invalidArgument(`dockerfile frontend: parsing platform ${spec}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const platform = platforms[0];
  const multiPlatform = parseMultiPlatform(opts["build-arg:BUILDKIT_MULTI_PLATFORM"] || opts["multi-platform"], platforms.length > 1);
  const hostnameArg = opts["build-arg:BUILDKIT_SANDBOX_HOSTNAME"];
  const hostname = hostnameArg ? hostnameArg : opts.hostname;
  const noCache = opts["no-cache"] === undefined ? undefined : opts["no-cache"] === "" ? [] : opts["no-cache"].split(",");
  return {
    filename: opts.filename || "Dockerfile",
    dockerfileLocal: opts.dockerfilekey || "dockerfile",
    contextLocal,
    target: opts.target || undefined,
    buildArgs: prefixed(opts, "build-arg:"),
    labels: prefixed(opts, "label:"),
    namedContexts: prefixed(opts, "context:"),
    platform,
    platforms,
    multiPlatform,
    noCache,
    // In build.go's order, with its wrapping words.
    imageResolveMode: attr(opts, "image-resolve-mode", parseResolveMode),
    extraHosts: attr(opts, "add-hosts", parseExtraHosts, "failed to parse additional hosts: "),
    shmSize: attr(opts, "shm-size", parseShmSize, "failed to parse shm size: "),
    ulimits: attr(opts, "ulimit", parseUlimits, "failed to parse ulimit: "),
    forceNetMode: attr(opts, "force-network-mode", parseNetMode),
    hostname: hostname || undefined,
    cacheIDNamespace: opts["build-arg:BUILDKIT_CACHE_MOUNT_NS"] ?? "",
    sourceDateEpoch: attr(opts, "build-arg:SOURCE_DATE_EPOCH", parseSourceDateEpochArg, "invalid SOURCE_DATE_EPOCH: "),
  };
}
