// Start-up clean-up of a snapshots directory after a process that did not stop cleanly.
// Active and view snapshots belong to the process that made them, so a new process drops them
// (they may be half-written); directories without a record are orphans of an interrupted
// prepare or remove.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { SnapshotMetadata } from "./metadata.ts";
import { removeSnapshotDir } from "./remove-dir.ts";

export interface SweepReport {
  /** Active and view snapshots dropped (record and directory). */
  readonly active: number;
  /** Directories that had no record. */
  readonly orphans: number;
}

/** Snapshot directories are named by their numeric id; anything else in snapshots/ is left alone. */
const ID_DIR = /^[1-9][0-9]*$/;

export async function sweep(meta: SnapshotMetadata, snapshotsDir: string): Promise<SweepReport> {
  const dropped = new Set(meta.deleteUncommitted());
  const known = meta.ids();
  let orphans = 0;
  for (const entry of await readdir(snapshotsDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !ID_DIR.test(entry.name)) continue;
    const id = Number(entry.name);
    if (known.has(id)) continue;
    await removeSnapshotDir(join(snapshotsDir, entry.name));
    if (!dropped.has(id)) orphans++;
  }
  return { active: dropped.size, orphans };
}
