// `buildkit build --frontend NAME [--opt K=V]…`: the frontend runs in this process over the
// --local directories and our registry client, and its Definition and metadata are built.
import type { ProgressWriter } from "../core/progress/events.ts";
import type { LocalFrontendOptions } from "../core/frontends/local-context.ts";
import type { FrontendForward, RecordedFrontendResult } from "../core/frontends/frontend.ts";
import { UsageError } from "./exit.ts";

export const FRONTEND_ARGS = {
  frontend: { type: "string", description: "Build with a frontend instead of a definition: dockerfile.v0 (with --local context=DIR --local dockerfile=DIR), or gateway.v0 with --opt source=IMAGE (a frontend image)" },
  opt: { type: "string", description: "A frontend attribute: target=STAGE, build-arg:K=V, filename=F, label:K=V, platform=P, add-hosts=H=IP, hostname=N, shm-size=BYTES, ulimit=nofile=S:H, force-network-mode=none|host|sandbox, image-resolve-mode=default|pull|local (repeatable)" },
} as const;

export interface FrontendRequest {
  readonly name: string;
  readonly opts: Readonly<Record<string, string>>;
}

/** `--frontend` and its `--opt`s; undefined when no frontend was asked for. */
export function parseFrontendFlags(frontend: string | undefined, opts: readonly string[], file: string | undefined): FrontendRequest | undefined {
  const out = parseOptFlags(opts);
  if (frontend === undefined || frontend === "") {
    // Without a frontend, only the attributes the controller itself reads (attest:*) mean anything, as with buildctl.
    const unused = Object.keys(out).filter((k) => !isControllerAttr(k));
    if (unused.length > 0) throw new UsageError(`--opt ${unused[0]}: needs --frontend (only attest:* applies to a definition)`);
    return undefined;
  }
  if (file !== undefined) throw new UsageError("--frontend and --file cannot be used together: the frontend makes the definition");
  return { name: frontend, opts: out };
}

/** `--opt K=V`s as a map (the request's frontend attributes). */
export function parseOptFlags(opts: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of opts) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new UsageError(`--opt ${kv}: expected KEY=VALUE`);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** attest:* and build-arg:BUILDKIT_ATTEST_*: read by the controller (BuildKit's), not by a frontend. */
export const isControllerAttr = (k: string): boolean => k.startsWith("attest:") || k.startsWith("build-arg:BUILDKIT_ATTEST_");

/**
 * Runs the frontend in-process: its Definition and result metadata, its own work shown on
 * progress; or, for gateway.v0 and a Dockerfile's `# syntax=IMAGE`, the frontend image to hand
 * the build to.
 */
export async function runFrontend(req: FrontendRequest, deps: LocalFrontendOptions & { progress: ProgressWriter; signal: AbortSignal }): Promise<RecordedFrontendResult | FrontendForward> {
  const { FRONTENDS, runRecorded } = await import("../core/frontends/frontend.ts");
  const frontend = Object.hasOwn(FRONTENDS, req.name) ? FRONTENDS[req.name] : undefined;
  if (!frontend) throw new UsageError(`--frontend ${req.name}: unknown frontend (known: ${Object.keys(FRONTENDS).join(", ")})`);
  const { createLocalFrontendContext } = await import("../core/frontends/local-context.ts");
  return runRecorded(req.name, frontend, req.opts, { ...createLocalFrontendContext(deps), progress: deps.progress }, deps.signal);
}
