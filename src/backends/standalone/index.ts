import { join } from "node:path";
import { hostPlatform } from "../../core/llb/platform.ts";
import { statePath } from "../../core/worker/storage.ts";
import type { Worker } from "../../core/worker/worker.ts";
import { LocalContentStore } from "./content-store.ts";
import { anyEntries, leaveCleanStamp, takeCleanStamp } from "./clean-close.ts";
import { createDurability } from "./durability.ts";
import { chooseRuntime, createRuncExecutor, runtimeDirs, sweepRuntimes } from "./executor/index.ts";
import { lockRoot } from "./root-lock.ts";
import { createOverlaySnapshotter } from "./snapshotter.ts";
import { withMounted } from "./sys/mount.ts";
import { sweepMounts } from "./sweep-mounts.ts";
import { ensureStateDir } from "./state-dir.ts";
import { spreadSubdirectories } from "./sys/spread-dir.ts";
import { syncFilesystem } from "./sys/syncfs.ts";
import { EXEC_LABELS, WORKER_LABEL } from "../../core/worker/labels.ts";

export interface StandaloneWorkerOptions {
  /** The state directory; one process owns it at a time. */
  root: string;
  /** The OCI runtime binary, as is; overrides ociRuntime. */
  runcPath?: string;
  /** "runc", "crun" or a path; by default crun when it works on this kernel, else runc. */
  ociRuntime?: string;
  /** One-line notices for stderr (why crun is not used). */
  onNotice?: (line: string) => void;
  /** Called when another process holds the root and this one waits for it. */
  onWait?: () => void;
  /**
   * Sweep even when the previous process closed cleanly (clean-close.ts): for prune, du and
   * serve, whose start-up time matters less than leaving nothing behind that someone else left
   * (a temporary blob of a writer that does not hold the lock, say).
   */
  fullSweep?: boolean;
  signal?: AbortSignal;
  /** syncfs(2) of the filesystem holding a path; tests count the calls (see durability.ts). */
  syncfs?: (path: string) => void | Promise<void>;
  /** Call syncfs(2) on this thread (see BackendOptions.syncInThread); ignored when syncfs is given. */
  syncInThread?: boolean;
}

export interface StandaloneWorker extends Worker {
  /** What opening the root cleaned up after an earlier process that was killed. */
  readonly swept: { mounts: number; snapshots: number; orphans: number; tempBlobs: number; containers: number; bundles: number };
}

/**
 * The daemonless worker: runc for processes, overlayfs snapshots, blobs in files, everything under one state
 * directory. Opening it takes the root's lock and sweeps what a killed process left behind
 * (half-written snapshots, containers, mounts), so the cache is consistent before work starts;
 * after a process that closed cleanly and left nothing, the sweeps are skipped (clean-close.ts).
 */
export async function createStandaloneWorker(opts: StandaloneWorkerOptions): Promise<StandaloneWorker> {
  const lock = await lockRoot(opts.root, { onWait: opts.onWait, signal: opts.signal });
  try {
    const executorRoot = join(opts.root, "executor");
    const mountRoot = join(opts.root, "mnt");
    const runtime = opts.runcPath ?? opts.ociRuntime;
    const stamped = takeCleanStamp(opts.root);
    const made = [mountRoot, executorRoot].map((dir) => ensureStateDir(dir));
    // Each snapshot and bundle is its own tree: new ones are spread over the filesystem's
    // block groups (sys/spread-dir.ts). Set once, when the directory is made.
    for (const dir of [join(opts.root, "snapshots"), join(executorRoot, "bundles")]) {
      const fresh = ensureStateDir(dir);
      if (fresh) spreadSubdirectories(dir);
      made.push(fresh);
    }
    // A root whose state directories were all just made holds no mount, container, bundle or
    // snapshot to sweep (a first build: ~4 ms of mountinfo and runtime state reading saved).
    const clean = (stamped || made.every(Boolean)) && opts.fullSweep !== true;
    // Mounts first: the sweeps below remove directories a stale mount may still stack.
    const mounts = clean ? 0 : sweepMounts(opts.root);
    const runc = clean ? { containers: 0, bundles: 0 } : await sweepRuntimes(executorRoot, runtime);
    const snapshotter = await createOverlaySnapshotter({ root: opts.root, sweep: !clean });
    const content = new LocalContentStore(opts.root);
    // Blobs live outside the directories checked above: their sweep waits for the stamp only.
    const tempBlobs = stamped && opts.fullSweep !== true ? 0 : await content.sweep();
    const durable = createDurability({ paths: [opts.root, join(opts.root, "snapshots"), statePath(opts.root, "content")], snapshotter, content, syncfs: opts.syncfs ?? (opts.syncInThread ? syncFilesystem : undefined) });
    /** Nothing of this process is left: no active snapshot, mount, container or temporary blob. */
    const leftNothing = () => snapshotter.leftNothingBehind() && !content.hasTemporaryFiles() && !anyEntries([mountRoot, ...runtimeDirs(executorRoot, runtime)]);
    const platform = hostPlatform();
    return {
      id: `standalone-${platform.architecture}`,
      // "sandbox": each step has its own PID namespace (buildkitd's default process mode).
      labels: { [WORKER_LABEL.executor]: "oci", [WORKER_LABEL.snapshotter]: "overlayfs", [WORKER_LABEL.ociProcessMode]: "sandbox", ...EXEC_LABELS },
      platforms: [platform],
      root: opts.root,
      snapshotter,
      executor: createRuncExecutor({
        root: executorRoot,
        runcPath: opts.runcPath,
        // The runtime is chosen (crun probed, once per state root) when the first container runs.
        runtime: async () => {
          const onNotice = opts.onNotice ?? ((line: string) => void process.stderr.write(`${line}\n`));
          return (await chooseRuntime(opts.ociRuntime, { root: executorRoot, onNotice })).path;
        },
      }),
      content: durable.content,
      swept: { mounts, snapshots: snapshotter.swept.active, orphans: snapshotter.swept.orphans, tempBlobs, ...runc },
      withMounted: (mounts, fn) => withMounted(mounts, fn, { parent: mountRoot }),
      // A lone bind of a snapshot's directory is that directory: hard links between snapshots
      // are possible only without a mount in between.
      withDirect: (mounts, fn) => {
        const only = mounts.length === 1 ? mounts[0] : undefined;
        if (only?.type === "bind") return fn(only.source);
        return withMounted(mounts, fn, { parent: mountRoot });
      },
      sync: () => durable.sync(),
      async close() {
        let synced = false;
        try {
          await durable.sync();
          synced = true;
        } finally {
          // A failed sync leaves no stamp: the next open sweeps (unsynced snapshots are checked either way).
          const clean = synced && leftNothing();
          await snapshotter.close();
          if (clean) leaveCleanStamp(opts.root);
          lock.release();
        }
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}
