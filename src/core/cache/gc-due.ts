// Whether a garbage collection is due after a build, apart from the collector itself (gc.ts,
// with prune and usage behind it), so that a build that finds GC not due loads none of that.
import { statSync } from "node:fs";
import { join } from "node:path";
import { defaultGCSpace, diskStat, type DiskStat } from "./gc-space.ts";

/**
 * GC runs at most once in this long, as BuildKit throttles its own to once a minute; sooner only
 * when a build made something and the disk holding the state is below buildkitd's minimum free
 * space. Within the minute only a minute's growth can pass the limits (BuildKit's daemon, whose
 * collection runs a minute after the builds that asked for it, lets the same through).
 */
export const GC_QUIET_MS = 60_000;
const GC_STAMP = "gc.stamp";

/** Touched by each collection; its age says when the last one ran. */
export function gcStampPath(root: string): string {
  return join(root, GC_STAMP);
}

/**
 * Milliseconds since the last collection: infinite when none ran, the stamp is unreadable, or
 * its time is ahead of the clock (set back since: waiting for it to catch up could take days).
 */
function sinceLastGC(root: string, now: number): number {
  let age: number;
  try {
    age = now - statSync(gcStampPath(root)).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
  return age < 0 ? Number.POSITIVE_INFINITY : age;
}

/**
 * Whether a GC should run after a build; `madeSomething`: the build made or imported results.
 * `disk`: the state's disk now (measured when needed).
 */
export function gcDue(root: string, madeSomething: boolean, now = Date.now(), disk: () => DiskStat = () => diskStat(root)): boolean {
  if (sinceLastGC(root, now) >= GC_QUIET_MS) return true;
  if (!madeSomething) return false;
  const d = disk();
  return d.total > 0 && d.free < defaultGCSpace(d).minFreeSpace;
}

/** Milliseconds until the quiet minute since the last collection is over (0: it is). */
export function gcWaitMs(root: string, now = Date.now()): number {
  return Math.max(0, GC_QUIET_MS - sinceLastGC(root, now));
}
