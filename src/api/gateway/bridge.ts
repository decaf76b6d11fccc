// moby.buildkit.v1.frontend.LLBBridge served by the daemon: the calls BuildKit's gateway clients
// (buildctl build, frontends) make on a build, which they name by the
// `buildkit-controlapi-buildid` request header.
import { open } from "node:fs/promises";
import { BuildkitError } from "../../core/errors.ts";
import { resolveInRoot } from "../../core/fs/safe-path.ts";
import type { Platform } from "../../core/llb/platform.ts";
import type { BuildRegistry } from "../control/builds.ts";
import type { CallContext } from "../grpc/server-call.ts";
import type { ServiceHandlers } from "../grpc/handlers.ts";
import { metadataValue } from "../grpc/metadata.ts";
import { fromGrpcStatus, GrpcError, isStatusCode, Status } from "../grpc/status.ts";
import type { LLBBridgeService } from "../grpc/services.ts";
import { frontendCaps, llbCaps } from "./caps.ts";
import { readDirStats, statFileAt } from "./read-dir.ts";
import { returnedAttestations } from "./returned-attestations.ts";
import { frontendCacheImports } from "../control/cache-entries.ts";
import { solveWithFrontend, type FrontendDeps } from "./frontends.ts";
import { parseResolveModeAttr, resolveImageForConfig } from "../../core/sources/image/resolve-mode.ts";
import { withTask } from "../../core/progress/task.ts";
import type { GatewayBuild } from "./gateway-build.ts";
import { warningOfFields } from "../control/warning-pb.ts";

export const BUILD_ID_HEADER = "buildkit-controlapi-buildid";
export const GATEWAY_ATTACHMENT = "gateway";
/** ResolveImageConfigRequest.ResolverType of an OCI layout (llb.ResolverTypeOCILayout; 0 is the registry). */
const RESOLVER_TYPE_OCI = 1;
/** ReadFile answers at most this much in one call (BuildKit's clients read in ranges). */
const MAX_READ = 16 << 20;

export interface BridgeDeps extends FrontendDeps {
  readonly builds: BuildRegistry;
}

/** The daemon's LLBBridge: each call names its build by the BUILD_ID_HEADER request header. */
export function llbBridgeHandlers(deps: BridgeDeps): ServiceHandlers<typeof LLBBridgeService> {
  return bridgeHandlers(deps, async (call) => {
    const id = metadataValue(call.metadata, BUILD_ID_HEADER);
    if (!id) throw new BuildkitError("InvalidArgument", `gateway call: no ${BUILD_ID_HEADER} header`);
    const build = await deps.builds.get(id, call.signal);
    const gw = (await build?.attachment(GATEWAY_ATTACHMENT, call.signal)) as GatewayBuild | undefined;
    if (!gw) throw new BuildkitError("NotFound", `gateway call: no gateway build ${id}`);
    return gw;
  });
}

/** LLBBridge for the builds `gateway` finds for a call (one build for a frontend container's connection). */
export function bridgeHandlers(deps: FrontendDeps, gateway: (call: CallContext) => Promise<GatewayBuild>): ServiceHandlers<typeof LLBBridgeService> {
  return {
    async Ping() {
      return { FrontendAPICaps: frontendCaps(), LLBCaps: llbCaps(), Workers: [deps.worker.record()] };
    },

    async Solve(req, call) {
      const gw = await gateway(call);
      const noCache = Object.hasOwn(req.FrontendOpt ?? {}, "no-cache");
      const requested = req.CacheImports ?? [];
      if (req.Frontend) {
        // A frontend imports what its cache-imports option names (BuildKit's Dockerfile frontend does).
        const cacheImports = gw.cacheImports([...requested, ...frontendCacheImports(req.FrontendOpt ?? {})]);
        const made = await solveWithFrontend(req.Frontend, req.FrontendOpt ?? {}, req.FrontendInputs ?? {}, gw, { noCache, cacheImports }, deps);
        if ("refs" in made) {
          // One result per platform (a RefMap).
          const refs = Object.fromEntries(Object.entries(made.refs).map(([k, r]) => [k, { id: r.id, ...(r.def ? { def: r.def } : {}) }]));
          return { result: { refs: { refs }, metadata: { ...made.metadata } } };
        }
        return { ref: made.ref.id, result: { ref: { id: made.ref.id, ...(made.ref.def ? { def: made.ref.def } : {}) }, metadata: { ...made.metadata } } };
      }
      if (!req.Definition || req.Definition.byteLength === 0) return { result: { ref: { id: "" } } };
      const id = await gw.solve(req.Definition, { noCache, cacheImports: gw.cacheImports(requested) });
      return { ref: id, result: { ref: { id, def: req.Definition } } };
    },

    async Return(req, call) {
      const gw = await gateway(call);
      if (req.error && req.error.code) {
        const { code, message, details } = req.error;
        // Its sources (a Dockerfile's line) and failed vertex, read back from the details, go on to the build's client.
        const received = { code: isStatusCode(code) ? code : Status.UNKNOWN, message: message ?? "", details: (details ?? []).map((d) => ({ type_url: d.type_url ?? "", value: d.value ?? new Uint8Array() })) };
        // The build fails with the frontend's status, code included (BuildKit's Return keeps it).
        gw.fail(fromGrpcStatus(received, (status) => (message ? status : new GrpcError(status.code, `gateway client failed with code ${code}`, { details: status.details }))));
        return {};
      }
      const result = req.result;
      // Attestations returned with the result: read from the results they name, now, while they are held.
      const attestations = await returnedAttestations(result?.attestations, gw, deps.engine);
      let id = "";
      if (result?.ref) id = result.ref.id ?? "";
      else if (result?.refs || result?.refsDeprecated) {
        // A RefMap: one result per platform, named by refs.platforms in the metadata.
        const map = result.refs ? Object.fromEntries(Object.entries(result.refs.refs ?? {}).map(([k, r]) => [k, r.id ?? ""])) : { ...(result.refsDeprecated?.refs ?? {}) };
        gw.returnPlatforms(map, result.metadata ?? {}, attestations);
        return {};
      } else if (result?.refDeprecated) id = result.refDeprecated;
      gw.return(id, result?.metadata ?? {}, attestations);
      return {};
    },

    async ReadFile(req, call) {
      const gw = await gateway(call);
      const result = gw.result(req.Ref ?? "");
      const data = await deps.engine.withResult(result?.ref, async (dir) => {
        const path = await resolveInRoot(dir, req.FilePath ?? "");
        const offset = Math.max(0, req.Range?.Offset ?? 0);
        const length = req.Range?.Length ? Math.min(req.Range.Length, MAX_READ) : MAX_READ;
        const file = await open(path, "r").catch((err: NodeJS.ErrnoException) => {
          throw new BuildkitError(err.code === "ENOENT" ? "NotFound" : "InvalidArgument", `reading ${req.FilePath}: ${err.code ?? err.message}`);
        });
        try {
          const st = await file.stat();
          if (!st.isFile()) throw new BuildkitError("InvalidArgument", `reading ${req.FilePath}: not a regular file`);
          const size = Math.max(0, Math.min(length, st.size - offset));
          if (!req.Range?.Length && st.size > MAX_READ) throw new BuildkitError("InvalidArgument", `reading ${req.FilePath}: larger than ${MAX_READ} bytes; read it in ranges`);
          const buf = new Uint8Array(size);
          const { bytesRead } = await file.read(buf, 0, size, offset);
          return buf.subarray(0, bytesRead);
        } finally {
          await file.close();
        }
      });
      return { Data: data };
    },

    async ReadDir(req, call) {
      const gw = await gateway(call);
      const entries = await deps.engine.withResult(gw.result(req.Ref ?? "")?.ref, (dir) => readDirStats(dir, req.DirPath ?? "", req.IncludePattern ?? ""));
      return { entries };
    },

    async StatFile(req, call) {
      const gw = await gateway(call);
      return { stat: await deps.engine.withResult(gw.result(req.Ref ?? "")?.ref, (dir) => statFileAt(dir, req.Path ?? "")) };
    },

    async ResolveImageConfig(req, call) {
      const platform: Platform = req.Platform?.OS && req.Platform.Architecture
        ? { os: req.Platform.OS, architecture: req.Platform.Architecture, ...(req.Platform.Variant ? { variant: req.Platform.Variant } : {}) }
        : deps.worker.platform;
      const { engine } = deps;
      const mode = parseResolveModeAttr(req.ResolveMode || undefined);
      const signal = AbortSignal.any([call.signal, AbortSignal.timeout(120_000)]);
      const resolve = async (): Promise<{ digest: string; config: Uint8Array }> => {
        // ResolverType OCI: the image is in an OCI layout the build's client serves (StoreID); the
        // build's own session is asked, whatever SessionID says (as for local sources here).
        if (req.ResolverType === RESOLVER_TYPE_OCI) {
          const { ociLayoutImageConfig } = await import("../../core/sources/oci-layout/image-config.ts");
          return ociLayoutImageConfig((await gateway(call)).context.session, req.Ref ?? "", platform, req.StoreID ?? "", signal);
        }
        const image = (await resolveImageForConfig(req.Ref ?? "", platform, mode, { registry: engine.registry, content: engine.worker.content, root: engine.worker.root }, signal)).image;
        return { digest: image.indexDigest ?? image.digest, config: image.configBytes };
      };
      // A LogName is shown as a vertex of the build, as BuildKit's bridge shows it ("[internal] load metadata for …").
      const progress = req.LogName ? await gateway(call).then((gw) => gw.context.progress, () => undefined) : undefined;
      const resolved = progress && req.LogName ? await withTask(progress, req.LogName, resolve) : await resolve();
      const digest = resolved.digest;
      // Recorded for build information, with the platform as asked (none when none was given).
      const asked = req.Platform?.OS && req.Platform.Architecture ? platform : undefined;
      await gateway(call).then((gw) => gw.recordResolved([{ type: "docker-image", ref: req.Ref ?? "", platform: asked, digest }]), () => undefined);
      return { Digest: digest, Config: resolved.config };
    },

    async Inputs(_req, call) {
      const gw = await gateway(call);
      return { Definitions: { ...gw.inputs } };
    },

    async Warn(req, call) {
      // BuildKit's bridge: the warning goes into the build's progress, on the vertex it names.
      const progress = (await gateway(call)).context.progress;
      progress?.write(warningOfFields(req.digest ?? "", req));
      return {};
    },

    async Evaluate(req, call) {
      // Results are solved when the client's Solve returns, so there is nothing left to do.
      (await gateway(call)).result(req.Ref ?? "");
      return {};
    },
  };
}
