// A frontend run as a BuildKit gateway frontend (grpcclient's RunFromEnvironment + Run): Ping,
// run the frontend over the bridge, solve its definition(s), and Return the result, or the
// error as a gRPC status, which the daemon reports as the build's failure.
import { isForward, type Frontend, type FrontendForward, type FrontendResult } from "../../../core/frontends/frontend.ts";
import { frontendCacheImports } from "../../control/cache-entries.ts";
import { BuildkitError, withContext } from "../../../core/errors.ts";
import { GrpcError, Status, toGrpcError, type StatusCode } from "../../grpc/status.ts";
import type { BridgeClient, BridgeRef, BridgeResult, BridgeSolveRequest } from "./bridge-client.ts";
import type { FrontendEnv } from "./frontend-env.ts";
import { createGatewayFrontendContext } from "./gateway-context.ts";

/** Runs frontend; resolves with its error (undefined on success) once Return was answered. */
export async function runGatewayFrontend(client: BridgeClient, frontend: Frontend, env: FrontendEnv, signal: AbortSignal): Promise<Error | undefined> {
  await client.ping(signal).catch((err: unknown) => {
    throw withContext("reaching the daemon's LLBBridge (on stdin and stdout)", err);
  });
  let result: BridgeResult;
  try {
    const ctx = createGatewayFrontendContext(client, { sessionId: env.sessionId });
    const made = await frontend(env.opts, ctx, signal);
    result = isForward(made) ? await forward(client, made, signal) : await solveResult(client, made, env.opts, signal);
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    await client.return({ error: { code: returnedCode(error), message: error.message, details: toGrpcError(error).details } }, signal);
    return error;
  }
  await client.return({ result }, signal);
  return undefined;
}

/**
 * A Dockerfile naming another frontend image (`# syntax=`): the daemon runs that one with this
 * build's options and inputs, and its result is ours, as BuildKit's forwardGateway does.
 */
async function forward(client: BridgeClient, made: FrontendForward, signal: AbortSignal): Promise<BridgeResult> {
  const inputs = client.caps.frontend.has("frontend.inputs") ? await client.inputs(signal) : {};
  return client.solve({ frontend: made.forward.frontend, frontendOpt: made.forward.opts, frontendInputs: inputs }, signal);
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

/**
 * The status code a failure is returned with. BuildKit prints a status as "CODE: message" for
 * every code but UNKNOWN, once per gRPC hop it crosses ("InvalidArgument: InvalidArgument: …"),
 * so the frontend's own errors go as UNKNOWN, as BuildKit's Dockerfile frontend's plain Go errors
 * do; the daemon's errors keep their codes, and a cancellation stays one.
 */
function returnedCode(err: Error): StatusCode {
  if (err instanceof GrpcError) return err.code;
  if (err instanceof BuildkitError && err.code === "Canceled") return Status.CANCELLED;
  return Status.UNKNOWN;
}
