// Automatic garbage collection, run after each build under the root lock. Policies and default
// limits are buildkitd's (cmd/buildkitd/config/gcpolicy.go, Linux, v0.17+):
//   1. easily re-made data (local sources, cache mounts, git checkouts) unused for 48h, while
//      the cache is over 512MB;
//   2. anything unused for 60 days, down to the limit;
//   3. results (not internal ones), least recently used first, down to the limit;
//   4. then internal data too, down to the limit.
// The limit ("keep bytes") comes from three figures, as BuildKit's calculateKeepBytes does:
// the cache may use up to maxUsedSpace (default min(80% of the disk, 100GB)); when the disk has
// less than minFreeSpace free (default 20%), it shrinks by the shortfall; never below
// reservedSpace (default min(10% of the disk, 10GB)). Percentages of the disk are rounded up
// to whole GB as BuildKit rounds them. `--gc-keep-storage SIZE` replaces all three with one
// fixed limit, as buildkitd's keepStorage does; 0 turns GC off.
import { writeFileSync } from "node:fs";
import { statePath } from "../worker/storage.ts";
import { gcStampPath } from "./gc-due.ts";
import { defaultGCSpace, diskStat, keepBytes, type DiskStat, type GCSpace } from "./gc-space.ts";
import type { Worker } from "../worker/worker.ts";
import { prune, type PrunePolicy, type PruneReport } from "./prune.ts";
import { openCacheStore, type CacheStore } from "./store.ts";
import { parseFilters } from "./usage-filter.ts";
import type { UsageRecord } from "./usage.ts";

export { parseSize } from "./units.ts";
export { defaultGCSpace, diskStat, keepBytes, type DiskStat, type GCSpace } from "./gc-space.ts";

const DAY = 86400e3;

/** BuildKit's four default GC policies with this space configuration. */
export function gcPolicies(space: GCSpace, disk: DiskStat): PrunePolicy[] {
  // At least one byte: a cap computed as zero or less means "free everything removable".
  const limit = (total: number) => {
    const keep = keepBytes(total, disk, space);
    return space.maxUsedSpace || space.reservedSpace || space.minFreeSpace ? Math.max(1, keep) : Number.POSITIVE_INFINITY;
  };
  return [
    { filters: parseFilters(["type==source.local,type==exec.cachemount,type==source.git.checkout"]), keepDuration: 2 * DAY, keepStorage: 512e6 },
    { keepDuration: 60 * DAY, keepStorage: limit },
    { keepStorage: limit },
    { all: true, keepStorage: limit },
  ];
}

export { GC_QUIET_MS, gcDue } from "./gc-due.ts";

export interface GCOptions {
  /** One fixed limit in bytes (`--gc-keep-storage`); 0 disables GC; absent: BuildKit's defaults. */
  readonly keepStorage?: number;
  /** Snapshot names still held in this process. */
  readonly inUse?: () => ReadonlySet<string>;
  /** The disk's figures (tests); measured from the root by default. */
  readonly disk?: DiskStat;
  readonly now?: () => number;
  readonly onRemoved?: (r: UsageRecord) => void;
  readonly signal?: AbortSignal;
  /** The cache index to collect; opened (and closed) here when absent. */
  readonly store?: CacheStore;
}

/**
 * Garbage-collects the worker's cache: call it after a build, with the worker still open (its
 * root lock held). Opens the cache index itself.
 */
export async function runGC(worker: Worker, opts: GCOptions = {}): Promise<PruneReport> {
  if (opts.keepStorage === 0) return { removed: [], reclaimed: 0, dangling: 0 };
  const disk = opts.disk ?? diskStat(worker.root);
  const space = opts.keepStorage === undefined ? defaultGCSpace(disk) : { reservedSpace: opts.keepStorage, maxUsedSpace: 0, minFreeSpace: 0 };
  const store = opts.store ?? openCacheStore(statePath(worker.root, "cacheIndex"));
  try {
    const inUse = opts.inUse?.();
    const target = { root: worker.root, content: worker.content, snapshotter: worker.snapshotter, store, cacheMountsDir: statePath(worker.root, "cacheMounts"), inUse, currentInUse: opts.inUse, now: opts.now };
    const report = await prune(target, gcPolicies(space, disk), { onRemoved: opts.onRemoved, signal: opts.signal });
    writeFileSync(gcStampPath(worker.root), `${new Date().toISOString()}\n`);
    return report;
  } finally {
    if (opts.store === undefined) store.close();
  }
}
