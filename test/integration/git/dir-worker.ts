// A worker whose snapshots are plain directories (no root, no overlay): enough for sources,
// which only prepare, fill and commit snapshots.
import { LocalContentStore } from "../../../src/backends/standalone/content-store.ts";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createSnapshotRefs, type SnapshotRefs } from "../../../src/core/cache/refs.ts";
import type { Mount } from "../../../src/core/worker/mount.ts";
import type { SnapshotInfo, Snapshotter } from "../../../src/core/worker/snapshotter.ts";
import type { Worker } from "../../../src/core/worker/worker.ts";

export interface DirWorker {
  readonly worker: Worker;
  readonly refs: SnapshotRefs;
  /** The directory holding a committed snapshot's content. */
  dirOf(name: string): string;
}

export function dirWorker(root: string): DirWorker {
  mkdirSync(root, { recursive: true });
  const kinds = new Map<string, SnapshotInfo["kind"]>();
  const mount = (key: string): Mount[] => [{ type: "bind", source: join(root, key), options: ["rbind"] }];
  const create = (key: string, parent: string | undefined, kind: SnapshotInfo["kind"]): Mount[] => {
    if (parent !== undefined) throw new Error("dir worker: parents are not supported");
    mkdirSync(join(root, key));
    kinds.set(key, kind);
    return mount(key);
  };
  const snapshotter: Snapshotter = {
    prepare: async (key, parent) => create(key, parent, "active"),
    view: async (key, parent) => create(key, parent, "view"),
    mounts: async (key) => mount(key),
    async commit(name, key) {
      renameSync(join(root, key), join(root, name));
      kinds.delete(key);
      kinds.set(name, "committed");
    },
    async remove(key) {
      rmSync(join(root, key), { recursive: true, force: true });
      kinds.delete(key);
    },
    stat: async (name) => {
      const kind = kinds.get(name);
      return kind === undefined ? undefined : { name, kind, created: 0 };
    },
    usage: async () => ({ size: 0, inodes: 0 }),
    list: async () => readdirSync(root).flatMap((name) => {
      const kind = kinds.get(name);
      return kind === undefined ? [] : [{ name, kind, created: 0 }];
    }),
  };
  const worker: Worker = {
    id: "dir",
    labels: {},
    platforms: [],
    snapshotter,
    executor: { run: async () => { throw new Error("dir worker: no executor"); } },
    content: new LocalContentStore(root),
    root,
    withMounted: async (mounts, fn) => {
      const source = mounts[0]?.source;
      if (source === undefined || !existsSync(source)) throw new Error("dir worker: nothing to mount");
      return fn(source);
    },
    // Plain directories for tests: nothing here has to survive a power loss.
    sync: async () => undefined,
    close: async () => undefined,
  };
  return { worker, refs: createSnapshotRefs(snapshotter), dirOf: (name) => join(root, name) };
}
