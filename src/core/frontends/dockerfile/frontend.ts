/**
 * The dockerfile.v0 frontend (BuildKit's frontend/dockerfile/builder): reads the Dockerfile
 * from the `dockerfile` local and `.dockerignore` (FILENAME.dockerignore beside the Dockerfile
 * first, else the context's), converts it, and returns the Definition with the target's image
 * config as `containerimage.config`.
 */
import { posix } from "node:path";
import { BuildkitError } from "../../errors.ts";
import { IMAGE_CONFIG_KEY, PLATFORMS_KEY } from "../../exporters/metadata-keys.ts";
import { hostPlatform, formatPlatform, type Platform } from "../../llb/platform.ts";
import type { FrontendContext, FrontendResult } from "../frontend.ts";
import { withTask, type ProgressTask } from "../../progress/task.ts";
import { parseDockerfileAttrs, type DockerfileAttrs } from "./attrs.ts";
import { convertDockerfile, type ConvertResult } from "./convert.ts";
import { parseDockerignore } from "./daemonless.ts";
import { DockerfileError, formatDockerfileError } from "./errors.ts";
import { imageJson } from "./image-json.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function dockerfileFrontend(opts: Readonly<Record<string, string>>, ctx: FrontendContext, signal: AbortSignal): Promise<FrontendResult> {
  const attrs = parseDockerfileAttrs(opts);
  // The vertices BuildKit's frontend shows for the same work (its local sources and resolves).
  const [text, ignore] = await Promise.all([
    step(ctx, `[internal] load build definition from ${attrs.filename}`, (task) => transferred(task, "dockerfile", readDockerfile(attrs, ctx, signal))),
    step(ctx, "[internal] load .dockerignore", (task) => transferred(task, "context", readDockerignore(attrs, ctx, signal))),
  ]);
  const excludes = ignore === undefined ? undefined : parseDockerignore(decoder.decode(ignore));
  let converted: ConvertResult;
  try {
    converted = await convertDockerfile(
      decoder.decode(text),
      { resolveImageConfig: (ref, platform, resolveMode) => step(ctx, `[internal] load metadata for ${ref}`, () => ctx.resolveImageConfig(ref, platform, { resolveMode, signal })) },
      {
        target: attrs.target, buildArgs: attrs.buildArgs, targetPlatform: attrs.platform, excludes, contextLocalName: attrs.contextLocal,
        imageResolveMode: attrs.imageResolveMode, extraHosts: attrs.extraHosts, shmSize: attrs.shmSize, ulimits: attrs.ulimits,
        forceNetMode: attrs.forceNetMode, hostname: attrs.hostname, cacheIDNamespace: attrs.cacheIDNamespace, sourceDateEpoch: attrs.sourceDateEpoch,
      },
    );
  } catch (err) {
    if (err instanceof DockerfileError) throw new DockerfileError(formatDockerfileError(err, attrs.filename), err.startLine, err.endLine);
    throw err;
  }
  const { state, image } = converted;
  if (Object.keys(attrs.labels).length > 0) image.config.Labels = { ...image.config.Labels, ...attrs.labels };
  if (attrs.platform) {
    image.os = attrs.platform.os;
    image.architecture = attrs.platform.architecture;
    image.variant = attrs.platform.variant;
  }
  // `no-cache` names stages; every op is marked instead (a superset: more runs, same result).
  const marshalOptions = attrs.noCache ? { ...converted.marshalOptions, metadata: { ignoreCache: true } } : converted.marshalOptions;
  return {
    definition: state.marshal(marshalOptions),
    metadata: {
      [IMAGE_CONFIG_KEY]: encoder.encode(imageJson(image)),
      [PLATFORMS_KEY]: encoder.encode(platformsJson(attrs.platform ?? { os: "linux", architecture: hostPlatform().architecture })),
    },
  };
}

/** work as a vertex of its own when the caller shows progress. */
function step<T>(ctx: FrontendContext, name: string, work: (task: ProgressTask | undefined) => Promise<T>): Promise<T> {
  return ctx.progress ? withTask(ctx.progress, name, work) : work(undefined);
}

/** The bytes read, as the status BuildKit's local source reports ("transferring dockerfile: 419B"). */
async function transferred<T extends Uint8Array | undefined>(task: ProgressTask | undefined, local: string, read: Promise<T>): Promise<T> {
  const bytes = await read;
  task?.status(`transferring ${local}:`, bytes?.byteLength ?? 0, undefined, true);
  return bytes;
}

async function readDockerfile(attrs: DockerfileAttrs, ctx: FrontendContext, signal: AbortSignal): Promise<Uint8Array> {
  const text = await ctx.readFile(attrs.dockerfileLocal, attrs.filename, signal);
  if (text) return text;
  if (posix.basename(attrs.filename) === "Dockerfile") {
    const lower = await ctx.readFile(attrs.dockerfileLocal, posix.join(posix.dirname(attrs.filename), "dockerfile"), signal);
    if (lower) return lower;
  }
  throw new BuildkitError("NotFound", `reading dockerfile: ${attrs.filename} not found in local "${attrs.dockerfileLocal}"`);
}

async function readDockerignore(attrs: DockerfileAttrs, ctx: FrontendContext, signal: AbortSignal): Promise<Uint8Array | undefined> {
  return (await ctx.readFile(attrs.dockerfileLocal, `${attrs.filename}.dockerignore`, signal)) ?? (await ctx.readFile(attrs.contextLocal, ".dockerignore", signal));
}

/** exptypes.Platforms as Go marshals it. */
function platformsJson(p: Platform): string {
  const platform = { architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) };
  return JSON.stringify({ Platforms: [{ ID: formatPlatform(p), Platform: platform }] });
}
