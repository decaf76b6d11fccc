// Automatic garbage collection, run after each build under the root lock. Rules and default
// limits are buildkitd's (cmd/buildkitd/config/gcpolicy.go, Linux, v0.17+; gc-space.ts).
// A rule's limit ("keep bytes") comes from three figures, as BuildKit's calculateKeepBytes does:
// the cache may use up to maxUsedSpace (default min(80% of the disk, 100GB)); when the disk has
// less than minFreeSpace free (default 20%), it shrinks by the shortfall; never below
// reservedSpace (default min(10% of the disk, 10GB)). Percentages of the disk are rounded up
// to whole GB as BuildKit rounds them. `--gc-keep-storage SIZE` replaces all three with one
// fixed limit, as buildkitd's keepStorage does; 0 turns GC off.
import { writeFileSync } from "node:fs";
import { statePath } from "../worker/storage.ts";
import { gcStampPath } from "./gc-due.ts";
import { configuredGCSpace, defaultGCRules, diskStat, keepBytes, type DiskStat, type GCRule, type GCSpace } from "./gc-space.ts";
import type { Worker } from "../worker/worker.ts";
import { prune, type PrunePolicy, type PruneReport } from "./prune.ts";
import { openCacheStore, type CacheStore } from "./store.ts";
import { parseFilters } from "./usage-filter.ts";
import type { UsageRecord } from "./usage.ts";

export { parseSize } from "./units.ts";
export { configuredGCSpace, defaultGCRules, defaultGCSpace, diskStat, keepBytes, type DiskStat, type GCRule, type GCSpace } from "./gc-space.ts";

/** BuildKit's four default GC rules with this space configuration, as prune policies. */
export function gcPolicies(space: GCSpace, disk: DiskStat): PrunePolicy[] {
  return defaultGCRules(space).map((rule) => pruneRule(rule, disk));
}

function pruneRule(rule: GCRule, disk: DiskStat): PrunePolicy {
  const { space } = rule;
  const capped = space.maxUsedSpace || space.reservedSpace || space.minFreeSpace;
  return {
    ...(rule.all ? { all: true } : {}),
    ...(rule.filters.length > 0 ? { filters: parseFilters(rule.filters) } : {}),
    ...(rule.keepDuration > 0 ? { keepDuration: rule.keepDuration } : {}),
    // At least one byte: a cap computed as zero or less means "free everything removable".
    keepStorage: capped ? (total: number) => Math.max(1, keepBytes(total, disk, space)) : Number.POSITIVE_INFINITY,
  };
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
  const space = configuredGCSpace(opts.keepStorage, disk);
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
