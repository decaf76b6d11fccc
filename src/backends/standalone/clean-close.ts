// The clean-close stamp: ROOT/closed-cleanly says the last process that held the root's lock
// closed it leaving nothing behind (no mount, container, active snapshot or temporary blob), so
// the next open may skip the start-up sweeps (reading mountinfo, the runtimes' state, every
// snapshot directory and the blobs directory). It is taken (removed) right after the lock, before
// anything is touched: a process that dies while holding the root leaves no stamp, and the next
// open sweeps. The lock is exclusive, so processes sharing a root take turns with the stamp too.
import { readdirSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const STAMP = "closed-cleanly";

/** Removes the stamp; true when it was there (the previous process closed cleanly). */
export function takeCleanStamp(root: string): boolean {
  try {
    unlinkSync(join(root, STAMP));
    return true;
  } catch {
    return false; // absent (or unremovable: then sweeping is the safe side)
  }
}

/** Leaves the stamp for the next process; a failure only costs that process a sweep. */
export function leaveCleanStamp(root: string): void {
  try {
    writeFileSync(join(root, STAMP), "");
  } catch {
    // the next open sweeps
  }
}

/** Whether any of dirs has an entry (a missing directory has none). */
export function anyEntries(dirs: readonly string[]): boolean {
  return dirs.some((dir) => {
    try {
      return readdirSync(dir).length > 0;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code !== "ENOENT";
    }
  });
}
