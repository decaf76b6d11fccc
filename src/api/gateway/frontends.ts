// Frontends run in the daemon (SolveRequest.Frontend, or a gateway client's Solve naming one):
// the built-in ones read the client's files through its session and resolve images with the
// engine's registry client, then hand back a Definition and result metadata; gateway.v0 (and a
// Dockerfile's `# syntax=IMAGE`) runs a frontend image in a container (container-frontend.ts).
import type { Engine, ExportRequest, SolveContext } from "../../core/engine/index.ts";
import type { CacheImportSpec } from "../../core/cache/remote/spec.ts";
import { BuildkitError } from "../../core/errors.ts";
import { GrpcError } from "../grpc/status.ts";
import { FRONTENDS, isForward, runRecorded, type FrontendForward, type RecordedFrontendResult } from "../../core/frontends/frontend.ts";
import { recordedArgs, type BuildOrigin } from "../../core/provenance/build-info.ts";
import { createDirFrontendContext } from "../../core/frontends/local-context.ts";
import type { CacheEntry } from "../control/cache-entries.ts";
import type { WorkerInfo } from "../control/workers.ts";
import { runFrontendImage } from "./container-frontend.ts";
import { GatewayBuild, type ReturnedResult } from "./gateway-build.ts";

export interface FrontendDeps {
  readonly engine: Engine;
  readonly worker: WorkerInfo;
}

/**
 * Runs a built-in frontend: its Definition(s) and metadata, or where it hands the build to
 * (gateway.v0 itself always does: to the image its `source` option names).
 */
export async function runFrontend(name: string, opts: Readonly<Record<string, string>>, ctx: SolveContext, engine: Engine): Promise<RecordedFrontendResult | FrontendForward> {
  const frontend = Object.hasOwn(FRONTENDS, name) ? FRONTENDS[name] : undefined;
  if (!frontend) throw new BuildkitError("Unimplemented", `frontend ${JSON.stringify(name)} is not supported (known: ${Object.keys(FRONTENDS).join(", ")})`);
  const context = createDirFrontendContext({
    // Only the file asked for crosses the wire (the mirror is per filter set).
    dir: (local, path, signal) => ctx.session.localDir(local, { include: [path.replace(/^\/+/, "")], signal }),
    registry: engine.registry,
    content: engine.worker.content,
    root: engine.worker.root,
    session: ctx.session,
  });
  return runRecorded(name, frontend, opts, { ...context, progress: ctx.progress }, ctx.signal).catch((err: unknown) => {
    throw frontendFailure(err);
  });
}

/**
 * A built-in frontend's own failure as BuildKit's read on the wire: its frontends return plain
 * Go errors, so gRPC UNKNOWN, which clients print without a code name (buildctl prints any other
 * code before the message, once per hop: "InvalidArgument: InvalidArgument: …"). A cancellation
 * or a status received from elsewhere keeps its code; message, sources and vertex stay.
 */
function frontendFailure(err: unknown): unknown {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 64; depth++, e = e.cause) {
    if (e instanceof GrpcError || (e instanceof BuildkitError && e.code === "Canceled")) return err;
  }
  return new BuildkitError("Unknown", err instanceof Error ? err.message : String(err), { cause: err });
}

/** A result a frontend made in a gateway build, by its id there. */
export interface MadeRef {
  readonly id: string;
  readonly def?: Uint8Array;
}

export type FrontendMade =
  | { readonly ref: MadeRef; readonly metadata: Readonly<Record<string, Uint8Array>> }
  | { readonly refs: Readonly<Record<string, MadeRef>>; readonly metadata: Readonly<Record<string, Uint8Array>> };

/**
 * A gateway client's Solve naming a frontend: the frontend's result(s) solved into gw, as ids
 * the client may read, return or solve on.
 */
export async function solveWithFrontend(
  name: string,
  opts: Readonly<Record<string, string>>,
  inputs: Readonly<Record<string, Uint8Array>>,
  gw: GatewayBuild,
  solveOpts: { noCache: boolean; cacheImports: readonly CacheImportSpec[] },
  deps: FrontendDeps,
): Promise<FrontendMade> {
  const out = await runFrontend(name, opts, gw.context, deps.engine);
  if (isForward(out)) {
    // The frontend's own solves live in a gateway build of its own; what it returns moves into gw.
    const nested = new GatewayBuild(deps.engine, gw.context, inputs, gw.cacheImports);
    try {
      const returned = await runFrontendImage(out.forward.opts, nested, deps);
      gw.recordResolved(nested.sources());
      // Build information names the frontend the client asked for, with its options (as BuildKit's bridge does).
      return adoptReturned(returned, { frontend: name, args: recordedArgs(opts) }, nested, gw);
    } finally {
      await nested.release();
    }
  }
  const { definition, platforms, metadata, origin, resolved, sbomExtras } = out;
  gw.recordResolved(resolved);
  const { noCache, cacheImports } = solveOpts;
  if (platforms) {
    // One result per platform (a RefMap), solved at once.
    const ids = await Promise.all(platforms.map((p) => gw.solve(p.definition, { noCache, cacheImports, origin, ...(p.sbomExtras ? { sbomExtras: p.sbomExtras } : {}) })));
    return { refs: Object.fromEntries(platforms.map((p, i) => [p.id, { id: ids[i]!, def: p.definition }])), metadata };
  }
  const id = await gw.solve(definition, { noCache, cacheImports, origin, ...(sbomExtras ? { sbomExtras } : {}) });
  return { ref: { id, def: definition }, metadata };
}

/** What a frontend returned in `from`, kept by `to` under new ids. */
function adoptReturned(returned: ReturnedResult, origin: BuildOrigin, from: GatewayBuild, to: GatewayBuild): FrontendMade {
  const subject = returned.result;
  if (subject === undefined) return { ref: { id: "" }, metadata: returned.metadata };
  if ("platforms" in subject) {
    const refs = Object.fromEntries(subject.platforms.map((p) => [p.id, { id: to.adopt(from.give(p.solved), origin) }]));
    return { refs, metadata: returned.metadata };
  }
  return { ref: { id: to.adopt(from.give(subject), origin) }, metadata: returned.metadata };
}

/**
 * A whole build made by a frontend image (gateway.v0, or a Dockerfile's `# syntax=`): what it
 * returns is exported. `name` and `opts` are the frontend the client asked for, for build information.
 */
export async function buildWithFrontendImage(
  forward: FrontendForward["forward"],
  asked: { readonly name: string; readonly opts: Readonly<Record<string, string>>; readonly inputs: Readonly<Record<string, Uint8Array>> },
  request: Omit<ExportRequest, "metadata" | "origin" | "sources">,
  cacheImports: (entries: readonly CacheEntry[]) => CacheImportSpec[],
  ctx: SolveContext,
  deps: FrontendDeps,
): Promise<Record<string, string>> {
  const gateway = new GatewayBuild(deps.engine, ctx, asked.inputs, cacheImports);
  try {
    const returned = await runFrontendImage(forward.opts, gateway, deps);
    const origin = { frontend: asked.name, args: recordedArgs(asked.opts) };
    return await deps.engine.export(returned.result, { ...request, metadata: returned.metadata, origin, sources: gateway.sources(), ...(returned.attestations ? { returnedAttestations: returned.attestations } : {}) }, ctx);
  } finally {
    await gateway.release();
  }
}
