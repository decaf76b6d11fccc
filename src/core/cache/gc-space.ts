// The disk figures GC limits come from, and buildkitd's default limits on Linux: apart from
// the collector (gc.ts) so that gc-due.ts can tell a disk running low without loading it.
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
