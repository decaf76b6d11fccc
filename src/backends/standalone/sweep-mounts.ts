// Start-up clean-up of the mounts a killed process left under a state root: temporary mounts
// (ROOT/mnt), containers' rootfs and step mounts (ROOT/executor/bundles) and anything mounted
// inside a snapshot's directory. They must go before anything is removed: rm -rf crosses mount
// points, and deleting a snapshot that a stale overlay still stacks loses data under it.
// Only our own directories are swept: a root that is itself a mount point, or a mount the
// operator put elsewhere under it, is left alone.
import { join } from "node:path";
import { mountPointsUnder } from "./sys/mountinfo.ts";
import { unmountAll } from "./sys/mount.ts";

/** The directories under a root where this backend mounts things. */
export function mountDirs(root: string): string[] {
  return [join(root, "mnt"), join(root, "executor", "bundles"), join(root, "snapshots")];
}

/** Detaches every mount below our directories under root, deepest first; returns how many points. */
export function sweepMounts(root: string): number {
  const points = new Set(mountDirs(root).flatMap((dir) => mountPointsUnder(dir).filter((p) => p !== dir)));
  // mountPointsUnder is deepest first per directory; sort the union the same way.
  const ordered = [...points].sort((a, b) => b.length - a.length);
  // Stacked mounts on one point come off together (unmountAll loops until it is a plain dir).
  for (const point of ordered) unmountAll(point, { detach: true });
  return ordered.length;
}
