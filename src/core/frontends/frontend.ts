/**
 * Frontends turn a client's build request (attributes such as `filename`, `target`,
 * `build-arg:K`) into a Definition plus result metadata, the way BuildKit's frontends do. Both
 * daemonless builds (cmd/build.ts, over the --local dirs) and the daemon (over the session) run
 * them in-process; only the FrontendContext differs.
 */
import type { Platform } from "../llb/platform.ts";
import type { ResolveMode } from "../llb/index.ts";
import type { ProgressWarning, ProgressWriter } from "../progress/events.ts";
import type { Digest } from "../digest.ts";
import { recordedArgs, type BuildOrigin } from "../provenance/build-info.ts";
import type { SourceProvenance } from "../provenance/capture.ts";
import { dockerfileFrontend } from "./dockerfile/frontend.ts";
import { GATEWAY_FRONTEND } from "./names.ts";

export type { Platform } from "../llb/platform.ts";
export { IMAGE_CONFIG_KEY, PLATFORMS_KEY } from "../exporters/metadata-keys.ts";

/**
 * An OCI layout the client serves (ResolveImageConfig's ResolverType OCI with its SessionID and
 * StoreID): the image is looked up there by digest instead of in a registry.
 */
export interface OciStoreRef {
  readonly storeId: string;
  /** The client's session serving it; absent: the build's own. */
  readonly sessionId?: string;
}

/** A marshalled local source (pb.Definition) and its vertex (Go's def.Head()). */
export interface LocalSourceDefinition {
  readonly definition: Uint8Array;
  readonly vertex: Digest;
}

/** What a frontend may ask of the outside world. */
export interface FrontendContext {
  /**
   * A file of the client's local directory `local` (e.g. "dockerfile", "context"); undefined when
   * absent. opts.name: the vertex the read is, for a context that shows reads itself (the gateway's);
   * opts.source: the local source to read through (the Dockerfile's, build.go's `src`) instead of
   * a one-file source of its own, so that the read is that source's vertex.
   */
  readFile(local: string, path: string, signal: AbortSignal, opts?: { readonly name?: string; readonly source?: LocalSourceDefinition }): Promise<Uint8Array | undefined>;
  /**
   * The digest to pin (the index's when the ref names one) and the image config JSON for
   * platform; resolveMode as BuildKit's resolver takes it (pull: the registry only; local: an
   * image of that name in the worker's image store first; default: the registry, then the store).
   */
  resolveImageConfig(ref: string, platform: Platform, opts: { resolveMode: ResolveMode; signal: AbortSignal; logName?: string; store?: OciStoreRef }): Promise<{ digest: string; config: Uint8Array }>;
  /** Where the frontend shows its own work (reading the Dockerfile, resolving images) as vertices; none if absent. */
  readonly progress?: ProgressWriter;
  /**
   * Reports a warning about a vertex (the Dockerfile's load): a context without `progress` (a
   * gateway frontend's) sends it to the daemon (LLBBridge.Warn); absent, warnings go to
   * `progress`, or nowhere.
   */
  warn?(w: ProgressWarning, signal: AbortSignal): Promise<void>;
  /**
   * The client's session, named by the frontend's local sources (`local.session`), as BuildKit's
   * frontends do when run through the gateway (BUILDKIT_SESSION_ID). Absent in-process: the
   * sources then carry `local.unique`, as dockerfile2llb's own do.
   */
  readonly sessionId?: string;
}

export interface FrontendResult {
  /** pb.Definition bytes to solve (empty for a result per platform). */
  readonly definition: Uint8Array;
  /** Result metadata for exporters, e.g. "containerimage.config" (the image config JSON; KEY/ID per platform). */
  readonly metadata: Readonly<Record<string, Uint8Array>>;
  /** A multi-platform result: one definition per platform, in refs.platforms' order. */
  readonly platforms?: readonly FrontendPlatform[];
  /**
   * Given by a frontend that has its results SBOM-scanned itself, as BuildKit's Dockerfile
   * frontend does (its scanner resolution is then a source of the build): the definitions the
   * scan attaches beside the result, by name ("context", stage names), maybe none. Absent, the
   * controller's processor scans the result alone. See FrontendPlatform.
   */
  readonly sbomExtras?: SBOMExtras;
}

/** Extra definitions an SBOM scan mounts beside the result, by name (a Dockerfile's context and stages). */
export type SBOMExtras = Readonly<Record<string, Uint8Array>>;

/** One platform's definition of a multi-platform result. */
export interface FrontendPlatform {
  /** Its ID in refs.platforms ("linux/arm64"). */
  readonly id: string;
  readonly platform: Platform;
  readonly definition: Uint8Array;
  readonly sbomExtras?: SBOMExtras;
}

/**
 * A frontend that hands the build to another one: the Dockerfile frontend does for a
 * `# syntax=IMAGE` line (or build-arg:BUILDKIT_SYNTAX), to the gateway frontend in IMAGE.
 */
export interface FrontendForward {
  readonly forward: { readonly frontend: string; readonly opts: Readonly<Record<string, string>> };
}

/** opts are BuildKit's frontend attributes, as buildctl sends them (`--opt K=V`). */
export type Frontend = (opts: Readonly<Record<string, string>>, ctx: FrontendContext, signal: AbortSignal) => Promise<FrontendResult | FrontendForward>;

export const isForward = (r: FrontendResult | FrontendForward): r is FrontendForward => "forward" in r;

/** The frontends by the name a client asks for (SolveRequest.Frontend, `--frontend`). */
export const FRONTENDS: Record<string, Frontend> = {
  "dockerfile.v0": dockerfileFrontend,
  // A frontend image (`source`): what runs it (a container speaking LLBBridge) is the caller's.
  [GATEWAY_FRONTEND]: async (opts) => ({ forward: { frontend: GATEWAY_FRONTEND, opts } }),
};

/** A frontend's result, with what build information needs of its run. */
export interface RecordedFrontendResult extends FrontendResult {
  readonly origin: BuildOrigin;
  /** The images it resolved, with the digests they resolved to (BuildKit's bridge records them). */
  readonly resolved: readonly SourceProvenance[];
}

/** Runs a frontend, recording its name, attributes and image resolutions for build information. */
export async function runRecorded(name: string, frontend: Frontend, opts: Readonly<Record<string, string>>, ctx: FrontendContext, signal: AbortSignal): Promise<RecordedFrontendResult | FrontendForward> {
  const resolved: SourceProvenance[] = [];
  const recording: FrontendContext = {
    ...ctx,
    async resolveImageConfig(ref, platform, o) {
      const r = await ctx.resolveImageConfig(ref, platform, o);
      resolved.push({ type: "docker-image", ref, platform, digest: r.digest });
      return r;
    },
    // BuildKit's frontend reads files by solving a local source, which its provenance lists.
    readFile(local, ...rest) {
      if (!resolved.some((s) => s.type === "local" && s.name === local)) resolved.push({ type: "local", name: local });
      return ctx.readFile(local, ...rest);
    },
  };
  const result = await frontend(opts, recording, signal);
  if (isForward(result)) return result;
  return { ...result, origin: { frontend: name, args: recordedArgs(opts) }, resolved };
}
