import { createHash } from "node:crypto";
import { mkdirSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { hostPlatform } from "../../core/llb/platform.ts";
import type { Worker } from "../../core/worker/worker.ts";
import { createRuncExecutor, sweepRunc } from "../standalone/executor/index.ts";
import { lockRoot } from "../standalone/root-lock.ts";
import { withMounted } from "../standalone/sys/mount.ts";
import { ContainerdClient } from "./client.ts";
import { createContainerdContentStore } from "./content-store.ts";
import { createContainerdImageStore } from "./image-store.ts";
import { openLeases } from "./leases.ts";
import { preflight } from "./preflight.ts";
import { createContainerdSnapshotter, OWNER_LABEL } from "./snapshotter.ts";
import { sweepContainers } from "./sweep.ts";
import { createTaskLauncher } from "./task-launcher.ts";
import { EXEC_LABELS, WORKER_LABEL } from "../../core/worker/labels.ts";

export interface ContainerdWorkerOptions {
  /** The engine's state directory; this worker keeps its part in ROOT/containerd-NAMESPACE. */
  readonly root: string;
  /** containerd's socket path. */
  readonly address: string;
  readonly namespace: string;
  /** containerd's snapshotter plugin (default overlayfs). */
  readonly snapshotter?: string;
  readonly onWait?: () => void;
  readonly signal?: AbortSignal;
}

export interface ContainerdWorker extends Worker {
  readonly swept: { leases: number; containers: number; bundles: number };
  readonly containerdVersion: string;
}

/**
 * The containerd worker: containerd keeps the blobs (content service), the snapshots (its
 * snapshotter) and runs the steps (containers and tasks, runc shim); the engine's own databases
 * stay in a local state directory. Everything made is held by leases (see leases.ts).
 */
export async function createContainerdWorker(opts: ContainerdWorkerOptions): Promise<ContainerdWorker> {
  const root = join(opts.root, `containerd-${opts.namespace}`);
  const lock = await lockRoot(root, { onWait: opts.onWait, signal: opts.signal });
  const client = new ContainerdClient(opts.address, opts.namespace);
  try {
    const snapshotterName = opts.snapshotter ?? "overlayfs";
    const { version } = await preflight(client, snapshotterName);
    // Leases and labels are tagged with the state directory: two roots may share a namespace.
    const owner = createHash("sha256").update(realpathSync(root)).digest("hex").slice(0, 16);
    const leases = await openLeases(client, owner);
    const containers = await sweepContainers(client, OWNER_LABEL, owner);
    const executorRoot = join(root, "executor");
    const mountRoot = join(root, "mnt");
    mkdirSync(mountRoot, { recursive: true });
    const { bundles } = await sweepRunc(executorRoot);
    const snapshotter = createContainerdSnapshotter({ client, snapshotter: snapshotterName, owner, leases });
    const launch = createTaskLauncher({ client, lease: () => leases.process, labels: { [OWNER_LABEL]: owner } });
    const platform = hostPlatform();
    const content = createContainerdContentStore(client, leases);
    return {
      id: `containerd-${opts.namespace}-${platform.architecture}`,
      labels: {
        [WORKER_LABEL.executor]: "containerd",
        [WORKER_LABEL.snapshotter]: snapshotterName,
        [WORKER_LABEL.containerdNamespace]: opts.namespace,
        [WORKER_LABEL.containerdUUID]: owner,
        ...EXEC_LABELS,
      },
      platforms: [platform],
      root,
      snapshotter,
      executor: createRuncExecutor({ root: executorRoot, launch }),
      content,
      images: createContainerdImageStore(client, { content, snapshotter: snapshotterName }),
      swept: { leases: leases.swept, containers, bundles },
      containerdVersion: version,
      withMounted: (mounts, fn) => withMounted(mounts, fn, { parent: mountRoot }),
      // Nothing to do: containerd fsyncs a blob before committing it and keeps its metadata in
      // bolt (fsynced transactions), and its overlay mounts carry no "volatile", so the last
      // unmount of a snapshot's overlay syncs its upper dir's filesystem.
      sync: async () => undefined,
      async close() {
        try {
          await leases.release().catch(() => undefined);
          await client.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (err) {
    await client.close().catch(() => undefined);
    lock.release();
    throw err;
  }
}
