/**
 * The one table of backends: how each makes a Worker. Commands pick one by name
 * (`--worker standalone|containerd`); each backend's module is loaded only when chosen.
 */
import type { Worker } from "../core/worker/worker.ts";

export interface BackendOptions {
  /** The engine's state directory (cache index, content index, traces); one process owns it at a time. */
  readonly root: string;
  readonly containerd: { readonly address: string; readonly namespace: string };
  /** The standalone worker's OCI runtime: "runc", "crun" or a path; undefined: crun when it works here, else runc. */
  readonly ociRuntime?: string;
  /** Called when another process holds the state directory and this one waits for it. */
  readonly onWait?: () => void;
  readonly signal?: AbortSignal;
  /** One-line notices for stderr (why crun is not used). */
  readonly onNotice?: (line: string) => void;
  /** Sweep what earlier processes left even after a clean close (prune, du, serve); builds skip it then. */
  readonly fullSweep?: boolean;
  /**
   * The process runs one build and nothing else meanwhile (the daemonless CLI): the end-of-build
   * syncfs may block this thread instead of running in a `sync` child process, which costs a
   * process start (~7 ms here) for nothing when no other build could use the thread.
   */
  readonly syncInThread?: boolean;
}

export interface OpenedWorker {
  readonly worker: Worker;
  /** What opening cleaned up after an earlier process that was killed, by kind. */
  readonly swept: Readonly<Record<string, number>>;
}

export const DEFAULT_CONTAINERD_ADDRESS = "/run/containerd/containerd.sock";
export const DEFAULT_CONTAINERD_NAMESPACE = "buildkit";

export const BACKENDS = {
  /** runc, overlayfs snapshots and blobs in files, all under the state directory. */
  standalone: async (opts: BackendOptions): Promise<OpenedWorker> => {
    const { createStandaloneWorker } = await import("./standalone/index.ts");
    const worker = await createStandaloneWorker({ root: opts.root, ociRuntime: opts.ociRuntime, onNotice: opts.onNotice, onWait: opts.onWait, signal: opts.signal, fullSweep: opts.fullSweep, syncInThread: opts.syncInThread });
    return { worker, swept: worker.swept };
  },
  /** A containerd daemon's content store, snapshotter, containers and tasks, in one namespace. */
  containerd: async (opts: BackendOptions): Promise<OpenedWorker> => {
    const { createContainerdWorker } = await import("./containerd/index.ts");
    const worker = await createContainerdWorker({ root: opts.root, ...opts.containerd, onWait: opts.onWait, signal: opts.signal });
    return { worker, swept: worker.swept };
  },
} as const satisfies Record<string, (opts: BackendOptions) => Promise<OpenedWorker>>;

export type BackendName = keyof typeof BACKENDS;
export const BACKEND_NAMES = Object.keys(BACKENDS) as BackendName[];

export function isBackendName(name: string): name is BackendName {
  return Object.hasOwn(BACKENDS, name);
}
