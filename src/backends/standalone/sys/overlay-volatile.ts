// overlayfs's "volatile" option for the writable overlays of active snapshots.
//
// Without it, the last unmount of an overlay syncs the whole filesystem its upper dir lives on
// (syncfs of the host filesystem, everyone's dirty data, not only the step's), and every fsync
// inside a step (dpkg, compilers) reaches the disk. With many steps, or beside other writers,
// that sync is most of a short step's unmount. Volatile overlays skip both (Linux 5.10+; Dagger's
// BuildKit does the same). The trade: a step's files reach the disk with the kernel's ordinary
// writeback rather than at unmount, so a power loss (not a process crash: the page cache stays)
// soon after a build may lose the newest results' data, as it may lose the content store's
// blobs, which are not fsynced either.
//
// A volatile overlay leaves `<workdir>/work/incompat/volatile` behind, and overlayfs refuses to
// mount that work dir again while it is there (its upper dir may have lost data in a crash).
// Active snapshots never outlive their process (the start-up sweep deletes them), and within a
// process the machine did not crash, so mounting a volatile overlay first removes the marker an
// earlier mount of the same snapshot left: a Mount list stays mountable again and again.
import { rmSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";

export const VOLATILE = "volatile";

/** Whether this kernel's overlayfs takes "volatile" (added in Linux 5.10). */
export function kernelHasVolatileOverlay(kernelRelease: string = release()): boolean {
  const match = /^(\d+)\.(\d+)/.exec(kernelRelease);
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > 5 || (major === 5 && minor >= 10);
}

/** For an overlay's data options with "volatile": removes the marker an earlier mount left in its workdir. */
export function clearVolatileMarker(data: readonly string[]): void {
  if (!data.includes(VOLATILE)) return;
  const workdir = data.find((o) => o.startsWith("workdir="))?.slice("workdir=".length);
  if (workdir) rmSync(join(workdir, "work", "incompat"), { recursive: true, force: true });
}
