// Mount stubs: runc creates an empty file or directory in the rootfs for every mount destination
// that is missing there (/etc/hosts in a scratch image, a cache mount's dir), and they would end up
// in the step's snapshot. As BuildKit's MountStubsCleaner does, the missing paths (and missing
// parents) are recorded before the run and removed afterwards when they are still empty, keeping
// their parent directory's timestamps.
import { lstatSync, readdirSync, rmdirSync, statSync, unlinkSync, utimesSync } from "node:fs";
import { dirname, posix } from "node:path";
import { resolveScoped } from "./scoped-path.ts";

function exists(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}

/** Container paths among dests (and their parents) missing from rootfs, deepest first. */
export function recordStubs(rootfs: string, dests: readonly string[]): string[] {
  const stubs = new Set<string>();
  for (const dest of dests) {
    for (let path = posix.resolve("/", dest); path !== "/"; path = posix.dirname(path)) {
      let resolved: string;
      try {
        resolved = resolveScoped(rootfs, path).path;
      } catch {
        break;
      }
      if (exists(resolved)) break;
      stubs.add(path);
    }
  }
  return [...stubs].sort((a, b) => b.split("/").length - a.split("/").length);
}

/** Removes path if it is an empty directory or an empty file; true when it did. */
function removeIfEmpty(path: string): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory() && readdirSync(path).length === 0) rmdirSync(path);
  else if (st?.isFile() && st.size === 0) unlinkSync(path);
  else return false;
  return true;
}

/** Removes the recorded stubs that are still empty; errors are ignored (a read-only rootfs). */
export function removeStubs(rootfs: string, stubs: readonly string[]): void {
  for (const stub of stubs) {
    try {
      const path = resolveScoped(rootfs, stub).path;
      const parent = statSync(dirname(path));
      if (removeIfEmpty(path)) utimesSync(dirname(path), parent.atime, parent.mtime);
    } catch {
      // Leave it: the snapshot keeps an empty stub, as with runc alone.
    }
  }
}
