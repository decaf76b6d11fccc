// What the daemon tells a gateway frontend through its environment, read as BuildKit's
// grpcclient reads it (opts(), sessionID(), workers(), product()).

const OPT_PREFIX = "BUILDKIT_FRONTEND_OPT_";

/** A worker as BUILDKIT_WORKERS lists it (client.WorkerInfo's JSON). */
export interface FrontendWorker {
  readonly ID: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly Platforms?: readonly { readonly os?: string; readonly architecture?: string; readonly variant?: string }[];
}

export interface FrontendEnv {
  /** The frontend options (`--opt K=V`), from BUILDKIT_FRONTEND_OPT_<i>=K=V. */
  readonly opts: Readonly<Record<string, string>>;
  /** BUILDKIT_SESSION_ID: the client's session. */
  readonly sessionId: string;
  readonly workers: readonly FrontendWorker[];
  /** BUILDKIT_EXPORTEDPRODUCT: the daemon's product name ("buildkitd"). */
  readonly product: string;
}

export function readFrontendEnv(env: Readonly<Record<string, string | undefined>>): FrontendEnv {
  const opts: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith(OPT_PREFIX) || v === undefined) continue;
    // "K=V"; a value without "=" is the key with an empty value, as Go's SplitN leaves it.
    const eq = v.indexOf("=");
    if (eq < 0) opts[v] = "";
    else opts[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return { opts, sessionId: env.BUILDKIT_SESSION_ID ?? "", workers: parseWorkers(env.BUILDKIT_WORKERS), product: env.BUILDKIT_EXPORTEDPRODUCT ?? "" };
}

function parseWorkers(text: string | undefined): FrontendWorker[] {
  // A missing or bad list is no list, as grpcclient's workers() takes it.
  try {
    const parsed: unknown = JSON.parse(text ?? "null");
    return Array.isArray(parsed) ? (parsed as FrontendWorker[]) : [];
  } catch {
    return [];
  }
}
