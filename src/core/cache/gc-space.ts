// The disk figures GC limits come from, buildkitd's default limits on Linux and its default
// rules: apart from the collector (gc.ts) so that gc-due.ts can tell a disk running low, and the
// daemon can describe its policy (ListWorkers), without loading it.
import { statfsSync } from "node:fs";

export interface DiskStat {
  /** Bytes of the filesystem holding the root (0: unknown). */
  readonly total: number;
  /** Bytes available to unprivileged users. */
  readonly free: number;
}

export interface GCSpace {
  readonly reservedSpace: number;
  readonly maxUsedSpace: number;
  readonly minFreeSpace: number;
}

const GB = 1e9;
/** BuildKit's fallback when the disk size is unknown. */
const DEFAULT_CAP = 2 * GB;

export function diskStat(path: string): DiskStat {
  try {
    const st = statfsSync(path);
    return { total: st.blocks * st.bsize, free: st.bavail * st.bsize };
  } catch {
    return { total: 0, free: 0 };
  }
}

/** percent of the disk, rounded up to whole GB (BuildKit's DiskSpace.AsBytes). */
function share(disk: DiskStat, percent: number): number {
  if (disk.total === 0) return DEFAULT_CAP;
  return (Math.floor((disk.total * percent) / 100 / 2 ** 30) + 1) * GB;
}

/** buildkitd's defaults on Linux (DetectDefaultGCCap). */
export function defaultGCSpace(disk: DiskStat): GCSpace {
  return {
    reservedSpace: Math.min(share(disk, 10), 10 * GB),
    maxUsedSpace: Math.min(share(disk, 80), 100 * GB),
    minFreeSpace: share(disk, 20),
  };
}

/** The bytes to keep of a cache now using total (BuildKit's calculateKeepBytes); 0: no cap. */
export function keepBytes(total: number, disk: DiskStat, space: GCSpace): number {
  if (space.maxUsedSpace === 0 && space.reservedSpace === 0 && space.minFreeSpace === 0) return 0;
  let keep = space.maxUsedSpace;
  const excess = space.minFreeSpace - disk.free;
  if (excess > 0) keep = keep === 0 ? total - excess : Math.min(keep, total - excess);
  else if (space.minFreeSpace !== 0 && keep === 0) keep = total;
  return Math.max(keep, space.reservedSpace);
}

/** The space figures GC works to: one fixed limit (`--gc-keep-storage`, keepStorage) or buildkitd's defaults. */
export function configuredGCSpace(keepStorage: number | undefined, disk: DiskStat): GCSpace {
  return keepStorage === undefined ? defaultGCSpace(disk) : { reservedSpace: keepStorage, maxUsedSpace: 0, minFreeSpace: 0 };
}

/** One GC rule as buildkitd states it (its DefaultGCPolicy, ListWorkers' GCPolicy). */
export interface GCRule {
  readonly all: boolean;
  /** Alternatives, as BuildKit's filter strings. */
  readonly filters: readonly string[];
  /** Milliseconds since last use that keep a record; 0: no such rule. */
  readonly keepDuration: number;
  readonly space: GCSpace;
}

const DAY = 86400e3;
const NO_SPACE: GCSpace = { reservedSpace: 0, maxUsedSpace: 0, minFreeSpace: 0 };

/**
 * buildkitd's four default rules (cmd/buildkitd/config/gcpolicy.go):
 *   1. easily re-made data (local sources, cache mounts, git checkouts) unused for 48h, while
 *      the cache is over 512MB;
 *   2. anything unused for 60 days, down to the limit;
 *   3. results (not internal ones), least recently used first, down to the limit;
 *   4. then internal data too, down to the limit.
 */
export function defaultGCRules(space: GCSpace): GCRule[] {
  return [
    { all: false, filters: ["type==source.local", "type==exec.cachemount", "type==source.git.checkout"], keepDuration: 2 * DAY, space: { ...NO_SPACE, maxUsedSpace: 512e6 } },
    { all: false, filters: [], keepDuration: 60 * DAY, space },
    { all: false, filters: [], keepDuration: 0, space },
    { all: true, filters: [], keepDuration: 0, space },
  ];
}
