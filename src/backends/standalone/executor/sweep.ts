// Start-up clean-up after a process that died while running containers: containers still in the
// runc state dir are killed and deleted, bundle dirs are unmounted and removed. Call it while
// holding the root's lock, before any run: it removes every bundle under root.
import { rmSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { BuildkitError } from "../../../core/errors.ts";
import { mountPointsUnder } from "../sys/mountinfo.ts";
import { unmount } from "../sys/mount.ts";
import { deleteContainer, findRunc, killContainer, listContainers, runtimeStateDir, whichRuntime } from "./runc.ts";
import type { Runc } from "./runc.ts";
import { runtimeInvocation } from "./hybrid-cgroups.ts";

export interface RuncSweepReport {
  readonly containers: number;
  readonly bundles: number;
}

/**
 * Deletes a bundle dir. rm -rf crosses mount points, so it only runs when nothing is mounted
 * under dir any more; with detachMounts, whatever is still mounted is detached first.
 */
export async function removeBundle(dir: string, opts: { detachMounts?: boolean } = {}): Promise<void> {
  if (opts.detachMounts) for (const point of mountPointsUnder(dir)) unmount(point, { detach: true, ignoreNotMounted: true });
  const left = mountPointsUnder(dir);
  if (left.length > 0) throw new BuildkitError("Internal", `removing bundle ${dir}: still mounted: ${left.join(", ")}`);
  // A handful of small files (after every step): synchronous, cheaper than a thread-pool trip.
  rmSync(dir, { recursive: true, force: true });
}

export function runcFor(root: string, runcPath?: string): Runc {
  const path = findRunc(runcPath);
  return { path, stateDir: runtimeStateDir(root, runcPath), how: runtimeInvocation(path) };
}

async function sweepContainers(root: string, runcPath?: string): Promise<number> {
  // runc keeps one directory per container in its state dir: when it is empty there is nothing
  // to kill, and start-up skips spawning `runc list` (several ms on every build).
  const states = await readdir(runtimeStateDir(root, runcPath)).catch(() => [] as string[]);
  if (states.length === 0) return 0;
  const runc = runcFor(root, runcPath);
  const ids = await listContainers(runc);
  for (const id of ids) {
    await killContainer(runc, id);
    await deleteContainer(runc, id);
  }
  return ids.length;
}

async function sweepBundles(root: string): Promise<number> {
  const dir = join(root, "bundles");
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  let swept = 0;
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    await removeBundle(join(dir, entry.name), { detachMounts: true });
    swept++;
  }
  return swept;
}

/** Cleans up after an executor on root that did not stop cleanly (see the file comment). */
export async function sweepRunc(root: string, opts: { runcPath?: string } = {}): Promise<RuncSweepReport> {
  const containers = await sweepContainers(root, opts.runcPath);
  const bundles = await sweepBundles(root);
  return { containers, bundles };
}

/**
 * sweepRunc for every runtime that may have left containers: runc, crun when installed, and the
 * requested path. Each state dir is looked at only when it has entries.
 */
export async function sweepRuntimes(root: string, requested?: string): Promise<RuncSweepReport> {
  let containers = 0;
  for (const path of runtimePaths(requested)) containers += await sweepContainers(root, path);
  return { containers, bundles: await sweepBundles(root) };
}

/** The runtimes whose state dirs a sweep looks in: runc's default, crun when installed, a given path. */
function runtimePaths(requested: string | undefined): Set<string | undefined> {
  const paths = new Set<string | undefined>([undefined, whichRuntime("crun")]);
  if (requested !== undefined && requested.includes("/")) paths.add(requested);
  return paths;
}

/** Where a runtime keeps a container's state or bundle: all empty when no container is left. */
export function runtimeDirs(root: string, requested?: string): string[] {
  return [...[...runtimePaths(requested)].map((path) => runtimeStateDir(root, path)), join(root, "bundles")];
}
