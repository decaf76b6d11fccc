// `--worker`, `--containerd-address`, `--containerd-namespace`, `--oci-runtime`: the flags that choose a backend,
// shared by the commands that open a worker (build, serve, du, prune).
import { BACKEND_NAMES, BACKENDS, DEFAULT_CONTAINERD_ADDRESS, DEFAULT_CONTAINERD_NAMESPACE, isBackendName } from "../backends/index.ts";
import type { BackendName, OpenedWorker } from "../backends/index.ts";
import { UsageError } from "./exit.ts";

export const workerArgs = {
  worker: { type: "string", default: "standalone", description: `The backend: ${BACKEND_NAMES.join(" | ")}` },
  "containerd-address": { type: "string", default: DEFAULT_CONTAINERD_ADDRESS, description: "containerd's socket (--worker containerd)" },
  "containerd-namespace": { type: "string", default: DEFAULT_CONTAINERD_NAMESPACE, description: "containerd namespace for images, snapshots and containers (--worker containerd)" },
  "oci-runtime": { type: "string", description: "The standalone worker's OCI runtime: runc | crun | PATH (default: crun when it works on this kernel, else runc)" },
} as const;

export interface WorkerFlags {
  readonly worker?: string;
  readonly "containerd-address"?: string;
  readonly "containerd-namespace"?: string;
  readonly "oci-runtime"?: string;
}

export interface WorkerChoice {
  readonly backend: BackendName;
  readonly containerd: { readonly address: string; readonly namespace: string };
  /** "runc", "crun" or a path; undefined: the default. */
  readonly ociRuntime?: string;
}

/** runc, crun or a path (it has a slash); anything else is a usage error. */
export function parseOciRuntime(value: string | undefined, what = "--oci-runtime"): string | undefined {
  if (value === undefined || value === "runc" || value === "crun" || value.includes("/")) return value;
  throw new UsageError(`${what} must be runc, crun or a path to a runtime binary, not ${JSON.stringify(value)}`);
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
  const ociRuntime = parseOciRuntime(args["oci-runtime"]);
  if (ociRuntime !== undefined && backend !== "standalone") throw new UsageError("--oci-runtime is for --worker standalone (containerd runs its own runtime)");
  return { backend, containerd: { address, namespace }, ...(ociRuntime !== undefined ? { ociRuntime } : {}) };
}

/** Opens the chosen backend's worker on the state directory root. */
export function openWorker(
  choice: WorkerChoice,
  opts: { root: string; signal?: AbortSignal; onWait?: () => void; onNotice?: (line: string) => void; fullSweep?: boolean; syncInThread?: boolean },
): Promise<OpenedWorker> {
  return BACKENDS[choice.backend]({ ...opts, containerd: choice.containerd, ociRuntime: choice.ociRuntime });
}
