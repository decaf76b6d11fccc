// overlayfs's "volatile" option for the writable overlays of active snapshots.
//
// Without it, the last unmount of an overlay syncs the whole filesystem its upper dir lives on
// (syncfs of the host filesystem, everyone's dirty data, not only the step's), and every fsync
// inside a step (dpkg, compilers) reaches the disk. With many steps, or beside other writers,
// that sync is most of a short step's unmount. Volatile overlays skip both (Linux 5.10+; Dagger's
// BuildKit does the same). A step's files reach the disk with the kernel's ordinary writeback
// rather than at unmount, like every other write of the worker (local copies, file ops, unpacked
// layers, blobs: none is fsynced one by one).
//
// The guarantee instead (../durability.ts): a build reports success only after one syncfs of the
// state's filesystem has written everything back (skipped when the build wrote nothing), so
// what a successful build returned survives a power loss or kernel crash. A snapshot committed
// but not yet synced is recorded so, with the boot that wrote it; if the machine goes down in
// that window, the next open (under a new boot id) drops it, and what is stacked on it, and
// their steps run again: the cache is never silently truncated. A process crash loses nothing
// (the page cache stays): those snapshots are kept and synced by the next build. Blobs carry no
// such record: a blob truncated by a machine crash before the sync is not detected.
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
