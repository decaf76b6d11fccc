// Snapshot data deleted behind our back (a snapshot directory removed by hand, a disk cleaner):
// a committed snapshot whose directory, or an ancestor's, is gone cannot be mounted. Rather
// than fail every later build with a bare ENOENT, such a snapshot and everything stacked on it
// are dropped (records, then what is left of their directories), so the cache misses and the
// steps run again.
import { existsSync } from "node:fs";
import type { SnapshotMetadata, SnapshotRecord } from "./metadata.ts";
import { removeSnapshotDir } from "./remove-dir.ts";

export interface HealPaths {
  readonly fs: (id: number) => string;
  readonly dir: (id: number) => string;
  /** Ids whose whole chain was found on disk in this process: checked once, not per use. */
  readonly verified: Set<number>;
}

/** The nearest record of id's chain (itself first) whose data is missing; undefined when all is there. */
export function brokenLink(meta: SnapshotMetadata, id: number, paths: HealPaths): SnapshotRecord | undefined {
  if (paths.verified.has(id)) return undefined;
  const checked: number[] = [];
  for (const r of meta.chain(id)) {
    if (paths.verified.has(r.id)) break;
    if (!existsSync(paths.fs(r.id))) return r;
    checked.push(r.id);
  }
  for (const c of checked) paths.verified.add(c);
  return undefined;
}

/**
 * Drops record id's chain from its broken link up (see the file comment) when it has one;
 * returns the names dropped ([] when nothing was missing).
 */
export async function dropBroken(meta: SnapshotMetadata, id: number, paths: HealPaths): Promise<string[]> {
  const broken = brokenLink(meta, id, paths);
  if (broken === undefined) return [];
  return dropStack(meta, broken.id, paths.dir);
}

/**
 * Drops record id and every record stacked on it (records first, then their directories, so a
 * crash in between leaves orphan directories for the sweep); returns the names dropped. Also
 * used for snapshots whose data a machine crash lost (unsynced.ts).
 */
export async function dropStack(meta: SnapshotMetadata, id: number, dir: (id: number) => string): Promise<string[]> {
  const dropped = meta.descendants(id);
  meta.deleteMany(dropped.map((r) => r.id));
  for (const r of dropped) await removeSnapshotDir(dir(r.id));
  return dropped.map((r) => r.name);
}
