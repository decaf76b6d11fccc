// Removing a snapshot's directory without following a mount into someone else's data: rm -rf
// crosses mount points, so anything still mounted inside the directory is detached first.
import { rm } from "node:fs/promises";
import { mountPointsUnder } from "../sys/mountinfo.ts";
import { unmount } from "../sys/mount.ts";

/** Detaches whatever is mounted inside dir, then deletes dir and everything in it. */
export async function removeSnapshotDir(dir: string): Promise<void> {
  for (const point of mountPointsUnder(dir)) unmount(point, { detach: true, ignoreNotMounted: true });
  await rm(dir, { recursive: true, force: true });
}
