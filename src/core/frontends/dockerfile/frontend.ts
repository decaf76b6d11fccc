/**
 * The dockerfile.v0 frontend (BuildKit's frontend/dockerfile/builder): reads the Dockerfile
 * from the `dockerfile` local and `.dockerignore` (FILENAME.dockerignore beside the Dockerfile
 * first, else the context's), converts it, and returns the Definition with the target's image
 * config as `containerimage.config`.
 */
import { posix } from "node:path";
import { BuildkitError } from "../../errors.ts";
import { IMAGE_CONFIG_KEY, platformsJson, PLATFORMS_KEY } from "../../exporters/metadata-keys.ts";
import { hostPlatform, formatPlatform, type Platform } from "../../llb/platform.ts";
import type { FrontendContext, FrontendForward, FrontendResult, LocalSourceDefinition, SBOMExtras } from "../frontend.ts";
import type { Digest } from "../../digest.ts";
import { reportParserWarnings } from "./warnings.ts";
import { withTask, type ProgressTask } from "../../progress/task.ts";
import { parseDockerfileAttrs, type DockerfileAttrs } from "./attrs.ts";
import { convertDockerfile, type ConvertResult } from "./convert.ts";
import { parseDockerignore } from "./daemonless.ts";
import { DockerfileError } from "./errors.ts";
import { dockerfileSource, dockerfileSourceMap } from "./dockerfile-source.ts";
import type { SourceMap } from "../../llb/index.ts";
import { imageJson } from "./image-json.ts";
import { namedContext, type NamedContextDeps } from "./named-contexts.ts";
import { syntaxForward } from "./syntax.ts";
import { GATEWAY_FRONTEND } from "../names.ts";

const encoder = new TextEncoder();
// The vertices BuildKit's builder names its reads by (its local sources' names).
const DOCKERFILE_VERTEX = (attrs: DockerfileAttrs) => `[internal] load build definition from ${attrs.filename}`;
const DOCKERIGNORE_VERTEX = "[internal] load .dockerignore";
const decoder = new TextDecoder();

export async function dockerfileFrontend(opts: Readonly<Record<string, string>>, ctx: FrontendContext, signal: AbortSignal): Promise<FrontendResult | FrontendForward> {
  const attrs = parseDockerfileAttrs(opts);
  // The vertices BuildKit's frontend shows for the same work (its local sources and resolves).
  // build.go's `src`: the Dockerfile's local source; its vertex is the read's, and warnings name it.
  const sourceOpts = { localName: attrs.dockerfileLocal, filename: attrs.filename, ...(ctx.sessionId ? { sessionId: ctx.sessionId } : {}) };
  const source = dockerfileSource(sourceOpts);
  const [text, ignore] = await Promise.all([
    step(ctx, DOCKERFILE_VERTEX(attrs), async (task) => {
      const dockerfile = await transferred(task, "dockerfile", readDockerfile(attrs, ctx, signal, source));
      // Before the step ends: buildctl prints a warning only with an update of its vertex.
      await reportParserWarnings(ctx, { opts, text: dockerfile, filename: attrs.filename, source }, signal);
      return dockerfile;
    }, source.vertex),
    step(ctx, DOCKERIGNORE_VERTEX, (task) => transferred(task, "context", readDockerignore(attrs, ctx, signal))),
  ]);
  // `# syntax=IMAGE`: the build is IMAGE's, run as a gateway frontend with this one's options.
  const forward = syntaxForward(opts, decoder.decode(text));
  if (forward) return { forward: { frontend: GATEWAY_FRONTEND, opts: { ...opts, source: forward.ref, cmdline: forward.cmdline } } };
  const excludes = ignore === undefined ? undefined : parseDockerignore(decoder.decode(ignore));
  // One source map for every platform's conversion, as the builder's.
  const sourceMap = dockerfileSourceMap(sourceOpts, text, source);
  // One conversion per target platform, at once (the builder's errgroup); none given: the default.
  const targets: (Platform | undefined)[] = attrs.platforms.length > 0 ? [...attrs.platforms] : [undefined];
  const results = await Promise.all(targets.map((tp) => convertFor(tp, { text, sourceMap }, excludes, attrs, ctx, signal)));
  if (!attrs.multiPlatform) {
    const [only] = results;
    return {
      definition: only!.definition,
      metadata: { [IMAGE_CONFIG_KEY]: only!.config, [PLATFORMS_KEY]: encoder.encode(platformsJson([only!.platform])) },
      ...sbomExtrasOf(only!),
    };
  }
  // One result per platform: each config under KEY/ID, the platforms listed in refs.platforms.
  const metadata: Record<string, Uint8Array> = { [PLATFORMS_KEY]: encoder.encode(platformsJson(results.map((r) => r.platform))) };
  for (const r of results) metadata[`${IMAGE_CONFIG_KEY}/${formatPlatform(r.platform)}`] = r.config;
  return {
    definition: new Uint8Array(),
    metadata,
    platforms: results.map((r) => ({ id: formatPlatform(r.platform), platform: r.platform, definition: r.definition, ...sbomExtrasOf(r) })),
  };
}

/** Always given (if empty): BuildKit's Dockerfile frontend scans its own results, and so its scanner resolution counts as the build's. */
const sbomExtrasOf = (c: Converted): { sbomExtras: SBOMExtras } => ({ sbomExtras: c.sbomExtras });

interface Converted {
  readonly platform: Platform;
  readonly definition: Uint8Array;
  readonly config: Uint8Array;
  /** The BUILDKIT_SBOM_SCAN_* extras, marshalled as the result is. */
  readonly sbomExtras: SBOMExtras;
}

/** The Dockerfile for one target platform (undefined: the default one). */
async function convertFor(tp: Platform | undefined, { text, sourceMap }: { text: Uint8Array; sourceMap: SourceMap }, excludes: string[] | undefined, attrs: DockerfileAttrs, ctx: FrontendContext, signal: AbortSignal): Promise<Converted> {
  // A multi-platform build names its steps and lookups after their platform ("[linux/arm64 internal] …").
  const internal = attrs.multiPlatform ? (p: Platform) => `[${formatPlatform(p)} internal]` : () => "[internal]";
  // Named contexts' lookups show as BuildKit's "[context NAME] …" vertices.
  const named: NamedContextDeps = {
    resolveImageConfig: (ref, platform, resolveMode, logName, store) => step(ctx, logName, () => ctx.resolveImageConfig(ref, platform, { resolveMode, signal, logName, ...(store ? { store } : {}) })),
    readFile: (localName, path, vertexName) => step(ctx, vertexName, (task) => transferred(task, localName, ctx.readFile(localName, path, signal, { name: vertexName }))),
    ...(ctx.sessionId ? { sessionId: ctx.sessionId } : {}),
  };
  const loadMetadata = (ref: string, platform: Platform) => `${internal(platform)} load metadata for ${ref}`;
  let converted: ConvertResult;
  try {
    converted = await convertDockerfile(
      decoder.decode(text),
      { resolveImageConfig: (ref, platform, resolveMode) => step(ctx, loadMetadata(ref, platform), () => ctx.resolveImageConfig(ref, platform, { resolveMode, signal, logName: loadMetadata(ref, platform) })) },
      {
        target: attrs.target, buildArgs: attrs.buildArgs, targetPlatform: tp, excludes, contextLocalName: attrs.contextLocal,
        imageResolveMode: attrs.imageResolveMode, extraHosts: attrs.extraHosts, shmSize: attrs.shmSize, ulimits: attrs.ulimits,
        forceNetMode: attrs.forceNetMode, hostname: attrs.hostname, cacheIDNamespace: attrs.cacheIDNamespace, sourceDateEpoch: attrs.sourceDateEpoch,
        prefixPlatform: attrs.multiPlatform, ...(ctx.sessionId ? { sessionId: ctx.sessionId } : {}), sourceMap,
        contextByName: (name, platform, resolveMode) => namedContext(attrs.namedContexts, name, platform, resolveMode, named),
      },
    );
  } catch (err) {
    // build.go's wrapSource: the error's lines, with the Dockerfile and the definition that loads it.
    if (err instanceof DockerfileError) {
      const { withSource } = await import("../../error-sources.ts");
      throw withSource(err, { info: { filename: sourceMap.filename, data: sourceMap.data, ...(sourceMap.definition ? { definition: sourceMap.definition } : {}) }, ranges: err.ranges });
    }
    throw err;
  }
  const { state, image } = converted;
  if (Object.keys(attrs.labels).length > 0) image.config.Labels = { ...image.config.Labels, ...attrs.labels };
  if (tp) {
    image.os = tp.os;
    image.architecture = tp.architecture;
    image.variant = tp.variant;
  }
  // `no-cache` names stages; every op is marked instead (a superset: more runs, same result).
  const marshalOptions = attrs.noCache ? { ...converted.marshalOptions, metadata: { ignoreCache: true } } : converted.marshalOptions;
  return {
    platform: tp ?? { os: "linux", architecture: hostPlatform().architecture },
    definition: state.marshal(marshalOptions),
    config: encoder.encode(imageJson(image)),
    sbomExtras: Object.fromEntries([...converted.sbomExtras].map(([name, st]) => [name, st.marshal(marshalOptions)])),
  };
}

/** work as a vertex of its own (digest: a known one's) when the caller shows progress. */
function step<T>(ctx: FrontendContext, name: string, work: (task: ProgressTask | undefined) => Promise<T>, digest?: Digest): Promise<T> {
  return ctx.progress ? withTask(ctx.progress, name, work, digest ? { digest } : {}) : work(undefined);
}

/** The bytes read, as the status BuildKit's local source reports ("transferring dockerfile: 419B"). */
async function transferred<T extends Uint8Array | undefined>(task: ProgressTask | undefined, local: string, read: Promise<T>): Promise<T> {
  const bytes = await read;
  task?.status(`transferring ${local}:`, bytes?.byteLength ?? 0, undefined, true);
  return bytes;
}

async function readDockerfile(attrs: DockerfileAttrs, ctx: FrontendContext, signal: AbortSignal, source: LocalSourceDefinition): Promise<Uint8Array> {
  const name = { name: DOCKERFILE_VERTEX(attrs), source };
  const text = await ctx.readFile(attrs.dockerfileLocal, attrs.filename, signal, name);
  if (text) return text;
  if (posix.basename(attrs.filename) === "Dockerfile") {
    const lower = await ctx.readFile(attrs.dockerfileLocal, posix.join(posix.dirname(attrs.filename), "dockerfile"), signal, name);
    if (lower) return lower;
  }
  throw new BuildkitError("NotFound", `reading dockerfile: ${attrs.filename} not found in local "${attrs.dockerfileLocal}"`);
}

async function readDockerignore(attrs: DockerfileAttrs, ctx: FrontendContext, signal: AbortSignal): Promise<Uint8Array | undefined> {
  const name = { name: DOCKERIGNORE_VERTEX };
  return (await ctx.readFile(attrs.dockerfileLocal, `${attrs.filename}.dockerignore`, signal, name)) ?? (await ctx.readFile(attrs.contextLocal, ".dockerignore", signal, name));
}

