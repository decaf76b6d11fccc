import type { Mount } from "./mount.ts";

/**
 * Snapshots, in containerd's vocabulary. A *committed* snapshot (known by its name) is
 * immutable; an *active* one (known by its key) is being written or viewed. `prepare` makes a
 * writable active snapshot on top of a committed parent (or empty), `view` a read-only one,
 * `commit` turns an active snapshot into a committed one under a name (the key goes away),
 * `remove` deletes either kind (a committed one only when no other snapshot has it as parent).
 * Keys and names share one namespace.
 */
export interface Snapshotter {
  prepare(key: string, parent?: string): Promise<Mount[]>;
  view(key: string, parent?: string): Promise<Mount[]>;
  /** The mounts of an active snapshot again. */
  mounts(key: string): Promise<Mount[]>;
  commit(name: string, key: string): Promise<void>;
  remove(key: string): Promise<void>;
  stat(keyOrName: string): Promise<SnapshotInfo | undefined>;
  /** Bytes and inodes used by this snapshot alone (not its parents). */
  usage(keyOrName: string): Promise<{ size: number; inodes: number }>;
  list(): Promise<SnapshotInfo[]>;
}

export interface SnapshotInfo {
  readonly name: string;
  readonly kind: "active" | "view" | "committed";
  readonly parent?: string;
  readonly created: number;
}
