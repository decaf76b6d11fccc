// Control.Solve: one client build on the daemon's engine. A request with a Definition is solved
// and exported directly; one with neither Definition nor Frontend (BuildKit's `buildctl build`)
// is driven through the LLBBridge gateway until the client calls Return.
import type { Engine } from "../../core/engine/index.ts";
import { isForward } from "../../core/frontends/frontend.ts";
import type { Entitlement } from "../../core/solver/entitlements.ts";
import { BuildkitError } from "../../core/errors.ts";
import { EXPORTER_TYPES, loadExporter, type ExporterInstance } from "../../core/exporters/index.ts";
import { withFrontendEpoch } from "../../core/exporters/spec.ts";
import type { CacheExportSpec, CacheImportSpec } from "../../core/cache/remote/spec.ts";
import { EMPTY_SESSION } from "../../core/session/session.ts";
import { parseAttestations, type HistoryProvenance } from "../../core/provenance/attestations.ts";
import { GATEWAY_ATTACHMENT } from "../gateway/bridge.ts";
import { buildWithFrontendImage, runFrontend, type FrontendDeps } from "../gateway/frontends.ts";
import { GatewayBuild } from "../gateway/gateway-build.ts";
import type { apiPb } from "../pb/index.ts";
import type { Build } from "./builds.ts";
import { cacheExportSpec, cacheImportSpec, type CacheEntry } from "./cache-entries.ts";
import type { AttachedSession, ClientSessions } from "./client-sessions.ts";

type SolveRequest = apiPb.moby.buildkit.v1.SolveRequest;

export interface SolveDeps extends FrontendDeps {
  readonly sessions: ClientSessions;
  /** Checks the entitlements a request asks for against what the daemon allows. */
  readonly grant: (requested: readonly string[]) => ReadonlySet<Entitlement>;
}

/** history: the daemon's build history, told each result's provenance. */
export async function solveBuild(req: SolveRequest, build: Build, deps: SolveDeps, history?: HistoryProvenance): Promise<Record<string, string>> {
  const signal = build.controller.signal;
  const entitlements = deps.grant(req.Entitlements ?? []);
  // attest:* is the controller's, whichever way the build is made (frontend, definition, gateway).
  const { provenance: asked, sbom } = parseAttestations(req.FrontendAttrs ?? {});
  // One build, one start time and invocation ID, in its attestations as in its history record (BuildKit's job).
  const provenance = asked && history ? { ...asked, startedOn: history.startedOn, invocationID: history.invocationID } : asked;
  const attached: AttachedSession | undefined = req.Session ? await deps.sessions.attach(req.Session, signal) : undefined;
  try {
    const exporters = await resolveExporters(req, attached, deps.engine);
    const cacheExports = (req.Cache?.Exports ?? []).map((e) => cacheExportSpec(e, attached));
    const cacheImports = (req.Cache?.Imports ?? []).map((e) => cacheImportSpec(e, attached));
    const noCache = Object.hasOwn(req.FrontendAttrs ?? {}, "no-cache");
    const ctx = { session: attached?.buildSession ?? EMPTY_SESSION, progress: build.progress, signal, entitlements };
    const importSpecs = (entries: readonly CacheEntry[]) => entries.map((e) => cacheImportSpec(e, attached));
    if (req.Frontend) {
      const out = await runFrontend(req.Frontend, req.FrontendAttrs ?? {}, ctx, deps.engine);
      if (!isForward(out)) {
        const { definition, platforms, metadata, origin, resolved, sbomExtras } = out;
        const { exporterResponse } = await deps.engine.solve({ ...(platforms ? { platforms } : { definition }), metadata, origin, sources: resolved, sbomExtras, noCache, exporters, cacheExports, cacheImports, provenance, sbom, history }, ctx);
        return exporterResponse;
      }
      // A frontend image (gateway.v0, or a Dockerfile's `# syntax=`): the build is what it returns.
      const asked = { name: req.Frontend, opts: req.FrontendAttrs ?? {}, inputs: req.FrontendInputs ?? {} };
      return await buildWithFrontendImage(out.forward, asked, { exporters, cacheExports, provenance, sbom, history }, importSpecs, ctx, deps);
    }
    if (req.Definition && req.Definition.byteLength > 0) {
      const { exporterResponse } = await deps.engine.solve({ definition: req.Definition, noCache, exporters, cacheExports, cacheImports, provenance, sbom, history }, ctx);
      return exporterResponse;
    }
    // The gateway: the client drives the build with LLBBridge calls, then returns a result.
    const gateway = new GatewayBuild(deps.engine, ctx, req.FrontendInputs ?? {}, importSpecs);
    build.attach(GATEWAY_ATTACHMENT, gateway);
    try {
      const returned = await gateway.returned;
      return await deps.engine.export(returned.result, { exporters, cacheExports, metadata: returned.metadata, origin: returned.origin, ...(returned.sbomExtras ? { sbomExtras: returned.sbomExtras } : {}), ...(returned.attestations ? { returnedAttestations: returned.attestations } : {}), sources: gateway.sources(), provenance, sbom, history }, ctx);
    } finally {
      build.detach(GATEWAY_ATTACHMENT);
      await gateway.release();
    }
  } finally {
    await attached?.release();
  }
}

/** The exporters a request names: v0.11's single Exporter/ExporterAttrs or later versions' list. */
export function listedExporters(req: SolveRequest): { type: string; attrs: Record<string, string> }[] {
  if ((req.Exporters ?? []).length > 0) return (req.Exporters ?? []).map((e) => ({ type: e.Type ?? "", attrs: { ...e.Attrs } }));
  return req.Exporter ? [{ type: req.Exporter, attrs: { ...req.ExporterAttrs } }] : [];
}

/** The request's exporters, resolved (to the client for local/tar/oci/docker, or the image exporter here). */
async function resolveExporters(req: SolveRequest, session: AttachedSession | undefined, engine: Engine): Promise<ExporterInstance[]> {
  const listed = listedExporters(req);
  // build-arg:SOURCE_DATE_EPOCH among the request's frontend attributes dates what the exporters
  // write, as BuildKit's control does: also when the frontend runs through the gateway (buildctl
  // v0.11 sends its --opt values with no Frontend then).
  const specs = listed.map(({ type, attrs }) => ({ type, attrs: withFrontendEpoch(attrs, req.FrontendAttrs) }));
  const out: ExporterInstance[] = [];
  for (const { type, attrs } of specs) {
    const toClient = await session?.clientExporter(type, attrs);
    if (toClient) {
      out.push(toClient);
      continue;
    }
    if (type !== "image") {
      const why = session ? "" : " (it needs a client session)";
      throw new BuildkitError("InvalidArgument", `exporter ${JSON.stringify(type)}: not supported by this daemon${why}; known: ${EXPORTER_TYPES.join(", ")}`);
    }
    const exporter = await loadExporter(type, { registry: engine.registry });
    if (!exporter) throw new BuildkitError("InvalidArgument", `exporter ${JSON.stringify(type)}: unknown`);
    out.push(exporter.resolve(attrs));
  }
  return out;
}

export type { CacheExportSpec, CacheImportSpec };
