import type { Platform } from "../llb/platform.ts";
import type { ContentStore } from "./content-store.ts";
import type { Executor } from "./executor.ts";
import type { ImageStore } from "./image-store.ts";
import type { Mount } from "./mount.ts";
import type { Snapshotter } from "./snapshotter.ts";

/**
 * What a backend gives the solver: where results live (snapshotter), how processes run
 * (executor), where blobs live (content), how mounts become directories the engine itself can read and write (for file
 * ops, sources and exporters), and a state directory for the engine's own data.
 */
export interface Worker {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly platforms: readonly Platform[];
  readonly snapshotter: Snapshotter;
  readonly executor: Executor;
  readonly content: ContentStore;
  /** The backend's own image names, when it has them (containerd); exported images are registered there too. */
  readonly images?: ImageStore;
  /** The state directory (cache index, stat cache, cache mounts, traces). */
  readonly root: string;
  /** Mounts `mounts` on a fresh directory, runs fn with it, and always unmounts after. */
  withMounted<T>(mounts: readonly Mount[], fn: (dir: string) => Promise<T>): Promise<T>;
  /**
   * Like withMounted, but a lone bind of a snapshot's own directory may be handed over as that
   * very directory (no mount), so in-process copies can hard-link files between snapshots
   * (link(2) fails across mounts). Only for code that never writes into a committed snapshot:
   * everyone else gets real (read-only where asked) mounts from withMounted.
   */
  withDirect?<T>(mounts: readonly Mount[], fn: (dir: string) => Promise<T>): Promise<T>;
  /**
   * Makes what the worker has stored so far (committed snapshots, blobs) survive a power loss or
   * kernel crash. The engine calls it once a build has succeeded, before reporting success; it
   * must be cheap when nothing was written since the last call (a fully cached build). A backend
   * whose stores sync their own writes (containerd) does nothing here.
   */
  sync(): Promise<void>;
  /** Syncs as sync() does, then releases everything the worker holds. */
  close(): Promise<void>;
}
