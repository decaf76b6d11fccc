// A frontend run as a BuildKit gateway frontend (grpcclient's RunFromEnvironment + Run): Ping,
// run the frontend over the bridge, solve its definition(s), and Return the result, or the
// error as a gRPC status, which the daemon reports as the build's failure.
import type { Frontend, FrontendResult } from "../../core/frontends/frontend.ts";
import { frontendCacheImports } from "../control/cache-entries.ts";
import { toGrpcError } from "../grpc/status.ts";
import type { BridgeClient, BridgeRef, BridgeResult, BridgeSolveRequest } from "./bridge-client.ts";
import type { FrontendEnv } from "./frontend-env.ts";
import { createGatewayFrontendContext } from "./gateway-context.ts";

/** Runs frontend; resolves with its error (undefined on success) once Return was answered. */
export async function runGatewayFrontend(client: BridgeClient, frontend: Frontend, env: FrontendEnv, signal: AbortSignal): Promise<Error | undefined> {
  await client.ping(signal);
  let result: BridgeResult;
  try {
    const ctx = createGatewayFrontendContext(client, { sessionId: env.sessionId });
    result = await solveResult(client, await frontend(env.opts, ctx, signal), env.opts, signal);
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    const status = toGrpcError(error);
    await client.return({ error: { code: status.code, message: status.message } }, signal);
    return error;
  }
  await client.return({ result }, signal);
  return undefined;
}

/** Solves the frontend's definition, or one per platform, into the result to return. */
async function solveResult(client: BridgeClient, res: FrontendResult, opts: Readonly<Record<string, string>>, signal: AbortSignal): Promise<BridgeResult> {
  const base = solveRequestBase(opts);
  const solveOne = async (definition: Uint8Array): Promise<BridgeRef> => {
    const solved = await client.solve({ ...base, definition }, signal);
    if (solved.kind !== "ref") throw new Error("solving the frontend's definition: the daemon answered several results");
    return { id: solved.ref.id, def: solved.ref.def ?? definition };
  };
  const metadata = { ...res.metadata };
  if (!res.platforms) return { kind: "ref", ref: await solveOne(res.definition), metadata };
  // refs.platforms in the metadata names the results and gives their order.
  const refs = await Promise.all(res.platforms.map(async (p) => [p.id, await solveOne(p.definition)] as const));
  return { kind: "refs", refs: Object.fromEntries(refs), metadata };
}

/**
 * What every solve carries: the caches to import, as BuildKit's Dockerfile builder reads them
 * (cache-imports, JSON; the older cache-from, registry refs), and the options grpcclient forwards.
 */
function solveRequestBase(opts: Readonly<Record<string, string>>): Omit<BridgeSolveRequest, "definition"> {
  const frontendOpt: Record<string, string> = {};
  for (const key of ["cache-imports", "cache-from"]) if (opts[key] !== undefined) frontendOpt[key] = opts[key];
  const cacheFrom = opts["cache-from"] ? opts["cache-from"].split(",").map((ref) => ({ Type: "registry", Attrs: { ref } })) : [];
  return { frontendOpt, cacheImports: [...frontendCacheImports(opts), ...cacheFrom] };
}
