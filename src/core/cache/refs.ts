import type { Snapshotter } from "../worker/snapshotter.ts";
import type { ResultRef } from "../solver/op.ts";

/**
 * Results are committed snapshots, known by name. A ref is a hold on one; holds are counted in
 * memory so garbage collection (a later step) can tell what a running build still uses.
 */
export interface SnapshotRefs {
  /** A new hold on name; `size`: its allocated bytes, when the maker counted them. */
  ref(name: string, size?: number): ResultRef;
  /** A ref to a cached result, or undefined when its snapshot is gone (a cache miss). */
  load(name: string): Promise<ResultRef | undefined>;
  /** Names with at least one live hold. */
  inUse(): ReadonlySet<string>;
}

export function createSnapshotRefs(snapshotter: Snapshotter): SnapshotRefs {
  const holds = new Map<string, number>();
  const live = new Set<string>();
  const ref = (name: string, size?: number): ResultRef => {
    holds.set(name, (holds.get(name) ?? 0) + 1);
    live.add(name);
    let released = false;
    return {
      id: name,
      ...(size === undefined ? {} : { size }),
      async release() {
        if (released) return;
        released = true;
        const n = (holds.get(name) ?? 1) - 1;
        if (n > 0) holds.set(name, n);
        else {
          holds.delete(name);
          live.delete(name);
        }
      },
    };
  };
  return {
    ref,
    async load(name) {
      const info = await snapshotter.stat(name);
      return info?.kind === "committed" ? ref(name) : undefined;
    },
    inUse: () => live,
  };
}
