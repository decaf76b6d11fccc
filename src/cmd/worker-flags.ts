// `--worker`, `--containerd-address`, `--containerd-namespace`: the flags that choose a backend,
// shared by the commands that open a worker (build, serve, du, prune).
import { BACKEND_NAMES, BACKENDS, DEFAULT_CONTAINERD_ADDRESS, DEFAULT_CONTAINERD_NAMESPACE, isBackendName } from "../backends/index.ts";
import type { BackendName, OpenedWorker } from "../backends/index.ts";
import { UsageError } from "./exit.ts";

export const workerArgs = {
  worker: { type: "string", default: "standalone", description: `The backend: ${BACKEND_NAMES.join(" | ")}` },
  "containerd-address": { type: "string", default: DEFAULT_CONTAINERD_ADDRESS, description: "containerd's socket (--worker containerd)" },
  "containerd-namespace": { type: "string", default: DEFAULT_CONTAINERD_NAMESPACE, description: "containerd namespace for images, snapshots and containers (--worker containerd)" },
} as const;

export interface WorkerFlags {
  readonly worker?: string;
  readonly "containerd-address"?: string;
  readonly "containerd-namespace"?: string;
}

export interface WorkerChoice {
  readonly backend: BackendName;
  readonly containerd: { readonly address: string; readonly namespace: string };
}

/** Checks the flags before anything is opened; a bad value is a usage error. */
export function parseWorkerFlags(args: WorkerFlags): WorkerChoice {
  const backend = args.worker ?? "standalone";
  if (!isBackendName(backend)) throw new UsageError(`--worker must be one of ${BACKEND_NAMES.join(", ")}, not "${backend}"`);
  const address = (args["containerd-address"] ?? DEFAULT_CONTAINERD_ADDRESS).replace(/^unix:\/\//, "");
  const namespace = args["containerd-namespace"] ?? DEFAULT_CONTAINERD_NAMESPACE;
  if (address === "") throw new UsageError("--containerd-address must not be empty");
  // containerd's own rule for namespace names (identifiers.Validate).
  if (!/^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/.test(namespace) || namespace.length > 76) {
    throw new UsageError(`--containerd-namespace ${JSON.stringify(namespace)}: letters, digits and single . _ - between them`);
  }
  return { backend, containerd: { address, namespace } };
}

/** Opens the chosen backend's worker on the state directory root. */
export function openWorker(choice: WorkerChoice, opts: { root: string; signal?: AbortSignal; onWait?: () => void }): Promise<OpenedWorker> {
  return BACKENDS[choice.backend]({ ...opts, containerd: choice.containerd });
}
