// Removing a snapshot's directory without following a mount into someone else's data: rm -rf
// crosses mount points, so anything still mounted inside the directory is detached first.
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { unmount } from "../sys/mount.ts";

/** Undoes mountinfo's octal escapes (\040 for a space, …). */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Mount points at or below dir, deepest first. */
export function mountPointsUnder(dir: string): string[] {
  const lines = readFileSync("/proc/self/mountinfo", "utf8").split("\n");
  const points = lines
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined)
    .map(unescapeMountPath)
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return points.sort((a, b) => b.length - a.length);
}

/** Detaches whatever is mounted inside dir, then deletes dir and everything in it. */
export async function removeSnapshotDir(dir: string): Promise<void> {
  for (const point of mountPointsUnder(dir)) unmount(point, { detach: true, ignoreNotMounted: true });
  await rm(dir, { recursive: true, force: true });
}
