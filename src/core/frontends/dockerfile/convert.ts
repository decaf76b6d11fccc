/**
 * Dockerfile → LLB with our client library, producing the ops BuildKit v0.11's dockerfile2llb
 * produces for the same Dockerfile, build args and resolved base images.
 */
import { posix } from "node:path";
import { image, local, scratch, State, type HostIP, type MarshalOptions, type NetMode, type Platform, type ResolveMode, type SourceMap, type SourceRange, type Ulimit } from "../../llb/index.ts";
import { formatPlatform, hostPlatform, parsePlatform } from "../../llb/platform.ts";
import { Cap } from "../../llb/caps.ts";
import { parseImageRef, formatImageRef } from "../../reference/docker-ref.ts";
// Errors Go gives no location are plain; located ones DockerfileErrors (parser.WithLocation).
import { BuildkitError } from "../../errors.ts";
import { atLines } from "./errors.ts";
import { cloneImage, emptyImage, DEFAULT_PATH, type DockerfileImage } from "./image-config.ts";
import { parseStages, type ArgKV, type Stage } from "./instructions.ts";
import { parseDockerfile } from "./parser.ts";
import { processWord } from "./shell-lex.ts";
import { dispatchCommand, dispatchWorkdir } from "./dispatch.ts";
import { countSteps, DispatchStates, prefixCommand, isReachable, newDispatchState, type DispatchState } from "./dispatch-state.ts";
import { clampTimes } from "./image-config.ts";
import type { DispatchContext } from "./dispatch-context.ts";
import type { Output, Vertex } from "../../llb/vertex.ts";
import { lineRanges, locationOption } from "./source-location.ts";

/** How the frontend reaches the outside world: base image configs. */
export interface ImageConfigResolver {
  /** The digest to pin (the index's when the ref names one) and the config JSON for platform, resolved in `resolveMode`. */
  resolveImageConfig(ref: string, platform: Platform, resolveMode: ResolveMode): Promise<{ digest: string; config: Uint8Array }>;
}

export interface ConvertOptions {
  target?: string;
  buildArgs?: Readonly<Record<string, string>>;
  targetPlatform?: Platform;
  /** The platform the build runs on (BUILDPLATFORM…); default: linux on this host's architecture. */
  buildPlatform?: Platform;
  /** `.dockerignore` patterns, as excludes on the context's local source. */
  excludes?: readonly string[];
  contextLocalName?: string;
  runSecurity?: boolean;
  /** How base images resolve; also set on their image sources (ConvertOpt.ImageResolveMode). */
  imageResolveMode?: ResolveMode;
  /** /etc/hosts entries added to every RUN (ConvertOpt.ExtraHosts). */
  extraHosts?: readonly HostIP[];
  /** Bytes of a /dev/shm tmpfs mounted on every RUN; 0 for none (ConvertOpt.ShmSize). */
  shmSize?: number;
  /** Resource limits of every RUN (ConvertOpt.Ulimit). */
  ulimits?: readonly Ulimit[];
  /** Every stage's network; RUN --network overrides it (ConvertOpt.ForceNetMode). */
  forceNetMode?: NetMode;
  /** Every stage's hostname (ConvertOpt.Hostname). */
  hostname?: string;
  /** Cache mount ids become `NS/ID` (ConvertOpt.CacheIDNamespace). */
  cacheIDNamespace?: string;
  /** SOURCE_DATE_EPOCH as RFC 3339: the time of every history entry the Dockerfile adds (ConvertOpt.SourceDateEpoch). */
  sourceDateEpoch?: string;
  /** The solver's LLB caps; default all of them (as the peer command and buildkitd give). */
  llbCaps?: readonly string[];
  /** The client's session the context's local source names (ConvertOpt.SessionID); none: local.unique instead. */
  sessionId?: string;
  /** A multi-platform build: steps are named after their platform (ConvertOpt.PrefixPlatform). */
  prefixPlatform?: boolean;
  /**
   * Named build contexts (`context:NAME`, ConvertOpt.ContextByName): the state (and image config)
   * a stage, base image or COPY --from name stands for; undefined when none is named so.
   */
  contextByName?: (name: string, platform: Platform, resolveMode: ResolveMode) => Promise<NamedContext | undefined>;
  /**
   * The Dockerfile as a source map (ConvertOpt.SourceMap): the ops dockerfile2llb gives locations
   * (FROM images, RUN, WORKDIR, COPY and ADD without --link) get their lines in it.
   */
  sourceMap?: SourceMap;
}

/** What a named context gives: its state and, for an image, its config. */
export interface NamedContext {
  readonly state: State;
  readonly image?: DockerfileImage;
}

export interface ConvertResult {
  state: State;
  image: DockerfileImage;
  /**
   * What an SBOM scan attaches beside the result (dockerfile2llb's SBOMTargets.Extras): the build
   * context as "context" when BUILDKIT_SBOM_SCAN_CONTEXT enables it for the target, and each
   * stage the target reaches whose BUILDKIT_SBOM_SCAN_STAGE enables it, by stage name.
   */
  sbomExtras: Map<string, State>;
  /** What the Definition is marshalled with, as BuildKit's SetMarshalDefaults. */
  marshalOptions: MarshalOptions;
}

/** Every capability BuildKit 0.11's solver has (dockerfile2llb marshals with pb.Caps.All()). */
const ALL_CAPS = Object.values(Cap) as string[];

/** The build context, made at the end once every path it must send is known (Go's mutableOutput). */
class LateOutput implements Output, Vertex {
  real?: Output;
  get vertex(): Vertex {
    return this.real!.vertex;
  }
  index(ctx: Parameters<Output["index"]>[0]): number {
    return this.real!.index(ctx);
  }
  inputs(): readonly Output[] {
    return this.real!.vertex.inputs();
  }
  marshal(ctx: Parameters<Vertex["marshal"]>[0]) {
    return this.real!.vertex.marshal(ctx);
  }
}

function platformArgs(build: Platform, target: Platform): ArgKV[] {
  return Object.entries({
    BUILDPLATFORM: formatPlatform(build), BUILDOS: build.os, BUILDARCH: build.architecture, BUILDVARIANT: build.variant ?? "",
    TARGETPLATFORM: formatPlatform(target), TARGETOS: target.os, TARGETARCH: target.architecture, TARGETVARIANT: target.variant ?? "",
  }).map(([key, value]) => ({ key, value }));
}

const argsMap = (args: readonly ArgKV[]) => new Map(args.map((a) => [a.key, a.value ?? ""]));

export async function convertDockerfile(text: string, resolver: ImageConfigResolver, opts: ConvertOptions = {}): Promise<ConvertResult> {
  if (text.length === 0) throw new BuildkitError("InvalidArgument", "the Dockerfile cannot be empty");
  const buildArgs = opts.buildArgs ?? {};
  const llbCaps = opts.llbCaps ?? ALL_CAPS;
  const resolveMode = opts.imageResolveMode ?? "default";
  const buildPlatform: Platform = opts.buildPlatform ?? { os: "linux", architecture: hostPlatform().architecture };
  const targetPlatform = opts.targetPlatform ?? buildPlatform;
  const parsed = parseDockerfile(text);
  const { stages, metaArgs: metaCmds } = parseStages(parsed.nodes, { runSecurity: opts.runSecurity });
  const lexMeta = (w: string, args: ArgKV[]) => processWord(w, argsMap(args), { escape: parsed.escape }).word;

  const metaArgs = platformArgs(buildPlatform, targetPlatform).map((a) => (Object.hasOwn(buildArgs, a.key) ? { key: a.key, value: buildArgs[a.key] } : a));
  for (const cmd of metaCmds) {
    for (const a of cmd.args) {
      const value = Object.hasOwn(buildArgs, a.key) ? buildArgs[a.key] : a.value === undefined ? undefined : lexMeta(a.value, metaArgs);
      metaArgs.push({ key: a.key, value });
    }
  }
  if (stages.length === 0) throw new BuildkitError("InvalidArgument", "no build stage in current context");

  // "scratch" and "context" are never named contexts (toDispatchState's wrapper).
  const contextByName = async (name: string, platform: Platform): Promise<NamedContext | undefined> =>
    opts.contextByName === undefined || /^(scratch|context)$/i.test(name) ? undefined : opts.contextByName(name, platform, resolveMode);
  const all = new DispatchStates();
  for (const [i, st] of stages.entries()) {
    try {
      const name = lexMeta(st.baseName, metaArgs);
      if (name === "") throw new Error(`base name (${st.baseName}) should not be blank`);
      st.baseName = name;
      const ds = newDispatchState(st);
      if (opts.sourceDateEpoch !== undefined) ds.epoch = opts.sourceDateEpoch;
      if (st.platform) ds.platform = parsePlatform(lexMeta(st.platform, metaArgs));
      if (!st.name) ds.stageName = `stage-${i}`;
      // A stage a named context stands for is that context: its instructions are not run.
      const named = st.name ? await contextByName(st.name, ds.platform ?? targetPlatform) : undefined;
      if (named) {
        ds.noinit = true;
        ds.state = named.state;
        ds.resolved = true;
        if (named.image) {
          ds.image = clampTimes(named.image, opts.sourceDateEpoch);
          if (named.image.architecture && named.image.os) ds.platform = { os: named.image.os, architecture: named.image.architecture, ...(named.image.variant ? { variant: named.image.variant } : {}) };
        } else ds.image = emptyImage(targetPlatform);
        all.add(ds);
        continue;
      }
      all.add(ds);
      ds.cmdTotal = countSteps(ds);
    } catch (err) {
      throw atLines(err, st.startLine, st.endLine);
    }
  }
  const target = opts.target ? all.byName(opts.target) : all.states[all.states.length - 1];
  if (!target) throw new BuildkitError("InvalidArgument", `target stage ${opts.target} could not be found`);

  // An image named by COPY --from is at the COPY's lines; one named by RUN --mount from= nowhere (Go's toCommand, detectRunMount).
  const unregistered = (baseName: string, line: Stage, location: readonly SourceRange[]): DispatchState => {
    const ds = newDispatchState({ name: "", baseName, platform: "", sourceCode: "", commands: [], startLine: line.startLine, endLine: line.endLine }, true, location);
    all.add(ds);
    return ds;
  };
  for (const d of [...all.states]) {
    d.sources = d.stage.commands.map((c) => {
      if (c.kind === "copy" && c.from) {
        if (/^\d+$/.test(c.from)) return [all.byIndex(Number(c.from))];
        return [all.byName(c.from) ?? unregistered(c.from, d.stage, lineRanges(c.startLine, c.endLine))];
      }
      if (c.kind === "run") return c.mountFrom.map((from) => all.byName(from || "scratch") ?? unregistered(from || "scratch", d.stage, []));
      return [];
    });
    for (const srcs of d.sources) for (const s of srcs) if (s) d.deps.add(s);
  }
  if (all.states.length === 1) all.states[0]!.stageName = "";

  await Promise.all(all.states.map((d) => (d.base || d.noinit ? undefined : resolveBase(d, isReachable(target, d), resolver, { targetPlatform, resolveMode, prefixPlatform: opts.prefixPlatform ?? false, contextByName, sourceMap: opts.sourceMap }))));

  const late = new LateOutput();
  const ctx: DispatchContext = {
    all, metaArgs, buildArgs, escape: parsed.escape, buildContext: new State(late), targetPlatform,
    llbCaps: new Set(llbCaps),
    sandbox: { extraHosts: opts.extraHosts ?? [], shmSize: opts.shmSize ?? 0, ulimits: opts.ulimits ?? [], cacheIDNamespace: opts.cacheIDNamespace ?? "" },
    stage: { hostname: opts.hostname ?? "", network: opts.forceNetMode ?? "sandbox" },
    ...(opts.sourceMap ? { sourceMap: opts.sourceMap } : {}),
  };
  const ctxPaths = new Set<string>();
  for (const d of all.states) {
    if (!isReachable(target, d) || d.noinit) continue;
    try {
      initStage(d, ctx);
      for (const [i, c] of d.stage.commands.entries()) {
        try {
          dispatchCommand(d, c, d.sources[i] ?? [], ctx);
        } catch (err) {
          throw atLines(err, c.startLine, c.endLine);
        }
      }
    } catch (err) {
      throw atLines(err, d.stage.startLine, d.stage.endLine);
    }
    for (const p of d.ctxPaths) ctxPaths.add(p);
  }
  // Go's path.Join(".", p) cleans: no trailing slash ("conf/" → "conf").
  const follow = [...ctxPaths].includes("/") ? undefined : [...ctxPaths].map((p) => posix.join(".", p).replace(/(.)\/+$/, "$1")).sort();
  late.real = local(opts.contextLocalName ?? "context", {
    excludePatterns: opts.excludes,
    sharedKeyHint: opts.contextLocalName ?? "context",
    followPaths: follow,
    ...(opts.sessionId ? { sessionId: opts.sessionId } : {}),
    name: "[internal] load build context",
  }).output();
  return { state: target.state, image: target.image, sbomExtras: sbomExtras(target, metaArgs, ctx.buildContext), marshalOptions: { platform: targetPlatform, caps: [...llbCaps] } };
}

/** SBOMTargets.Extras: the flags read from the global ARGs then the stage's own, the last one winning. */
function sbomExtras(target: DispatchState, metaArgs: readonly ArgKV[], buildContext: State): Map<string, State> {
  const flag = (d: DispatchState, key: string): boolean => {
    let on = false;
    for (const a of [...metaArgs, ...d.buildArgs]) if (a.key === key) on = enabledForStage(d.stageName, a.value ?? "");
    return on;
  };
  const extras = new Map<string, State>();
  if (flag(target, "BUILDKIT_SBOM_SCAN_CONTEXT")) extras.set("context", buildContext);
  for (const d of reachableStates(target)) if (d !== target && flag(d, "BUILDKIT_SBOM_SCAN_STAGE")) extras.set(d.stageName, d.state);
  return extras;
}

/** isEnabledForStage: a strconv.ParseBool value, else a comma-separated list of stage names. */
function enabledForStage(stage: string, value: string): boolean {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(value)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(value)) return false;
  return value.split(",").includes(stage);
}

/** findReachable: the state, its base's and its dependencies' (repeats included, as Go's). */
function reachableStates(from: DispatchState): DispatchState[] {
  return [from, ...(from.base ? reachableStates(from.base) : []), ...[...from.deps].flatMap(reachableStates)];
}

async function resolveBase(
  d: DispatchState,
  reachable: boolean,
  resolver: ImageConfigResolver,
  opts: { targetPlatform: Platform; resolveMode: ResolveMode; prefixPlatform: boolean; contextByName: (name: string, platform: Platform) => Promise<NamedContext | undefined>; sourceMap: SourceMap | undefined },
): Promise<void> {
  const { targetPlatform, resolveMode } = opts;
  if (opts.prefixPlatform) d.namePlatform = d.platform ?? targetPlatform;
  if (d.stage.baseName === "scratch") {
    d.state = scratch();
    d.image = emptyImage(targetPlatform);
    return;
  }
  try {
    const platform = d.platform ?? targetPlatform;
    const parsed = parseImageRef(d.stage.baseName);
    const tagged = formatImageRef(parsed);
    // A base image a named context stands for (FROM alpine with context:alpine=…).
    const named = await opts.contextByName(tagged, platform);
    if (named) {
      d.image = named.image ?? emptyImage(targetPlatform);
      d.state = named.state.platform(platform);
      d.platform = platform;
      return;
    }
    // parseImageRef adds "latest"; the pinned name keeps only a tag that was written (Go's WithDigest).
    const tagWritten = parsed.tag !== undefined && (parsed.digest !== undefined || new RegExp(`:${parsed.tag}(@|$)`).test(d.stage.baseName));
    const ref = tagWritten ? parsed : { ...parsed, tag: undefined };
    let name = tagged;
    let isScratch = false;
    if (reachable) {
      const { digest, config } = await resolver.resolveImageConfig(tagged, platform, resolveMode);
      const img = JSON.parse(new TextDecoder().decode(config)) as DockerfileImage;
      delete img.created;
      img.config ??= {};
      name = digest ? formatImageRef({ ...ref, digest }) : formatImageRef(ref);
      isScratch = !img.rootfs?.diff_ids?.length && !(img.history ?? []).some((h) => !h.empty_layer);
      d.image = img;
    }
    d.stage.baseName = name;
    d.platform = platform;
    d.state = isScratch
      ? scratch()
      : image(name, { platform, resolveMode, description: { "com.docker.dockerfile.v1.command": d.stage.sourceCode }, name: prefixCommand(d, `FROM ${name}`), ...locationOption(opts.sourceMap, d.location) });
  } catch (err) {
    throw atLines(err, d.stage.startLine, d.stage.endLine);
  }
}

/** The stage's starting state: base stage or image, the image's env, dir, user and ONBUILD triggers. */
function initStage(d: DispatchState, ctx: DispatchContext): void {
  if (d.base) {
    d.state = d.base.state;
    d.platform = d.base.platform;
    d.namePlatform = d.base.namePlatform;
    d.image = cloneImage(d.base.image);
  } else d.image = cloneImage(d.image);
  const cfg = d.image.config;
  if (!(cfg.Env ?? []).some((e) => e.split("=", 1)[0] === "PATH")) cfg.Env = [...(cfg.Env ?? []), `PATH=${DEFAULT_PATH}`];
  for (const e of cfg.Env ?? []) {
    const eq = e.indexOf("=");
    d.state = eq < 0 ? d.state.addEnv(e, "") : d.state.addEnv(e.slice(0, eq), e.slice(eq + 1));
  }
  if (ctx.stage.hostname) d.state = d.state.hostname(ctx.stage.hostname);
  if (cfg.WorkingDir) dispatchWorkdir(d, cfg.WorkingDir, false);
  if (cfg.User) d.state = d.state.user(cfg.User);
  d.state = d.state.network(ctx.stage.network);
  const triggers = cfg.OnBuild ?? [];
  cfg.OnBuild = null;
  for (const t of triggers) {
    const nodes = parseDockerfile(t).nodes;
    if (nodes.length !== 1) throw new Error("onbuild trigger should be a single expression");
    const { stages } = parseStages([{ cmd: "FROM", flags: [], args: ["scratch"], json: false, original: "FROM scratch", heredocs: [], startLine: 0, endLine: 0, comments: [] }, ...nodes]);
    for (const c of stages[0]!.commands) dispatchCommand(d, c, [], ctx);
  }
}
