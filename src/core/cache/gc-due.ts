// Whether a garbage collection is due after a build, apart from the collector itself (gc.ts,
// with prune and usage behind it), so that a build that finds GC not due loads none of that.
import { statSync } from "node:fs";
import { join } from "node:path";

/**
 * After a build that made nothing new (every step cached), GC is skipped when the last one ran
 * less than this long ago: nothing grew, and only time-based policies could find more. BuildKit
 * likewise throttles its GC to once a minute.
 */
export const GC_QUIET_MS = 60_000;
const GC_STAMP = "gc.stamp";

/** Touched by each collection; its age says when the last one ran. */
export function gcStampPath(root: string): string {
  return join(root, GC_STAMP);
}

/** Whether a GC should run after a build; `madeSomething`: the build made or imported results. */
export function gcDue(root: string, madeSomething: boolean, now = Date.now()): boolean {
  if (madeSomething) return true;
  try {
    return now - statSync(gcStampPath(root)).mtimeMs >= GC_QUIET_MS;
  } catch {
    return true; // never ran (or the stamp is unreadable)
  }
}
