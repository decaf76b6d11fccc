// Snapshots committed but never synced before the machine went down. Committed data reaches the
// disk only at the next syncfs (../durability.ts); until then its record says "not durable" and
// names the boot that wrote it. Opening the snapshots under another boot means the machine went
// down (power loss, kernel crash) before that sync: the record may have reached the disk without
// the files, so the data counts as lost, and the snapshot goes with everything stacked on it.
// The cache records that named them then miss (refs.load finds no snapshot) and their steps run
// again. Under the same boot only the process stopped; the page cache still holds the data, so
// the records stay, and the next sync makes them durable.
import type { SnapshotMetadata } from "./metadata.ts";
import { dropStack } from "./heal.ts";

export interface UnsyncedReport {
  /** Snapshots dropped: unsynced under an earlier boot, or stacked on one that was. */
  readonly dropped: number;
}

export async function dropLostSnapshots(
  meta: SnapshotMetadata,
  opts: { bootId: () => string; dir: (id: number) => string; warn: (line: string) => void },
): Promise<UnsyncedReport> {
  const unsynced = meta.unsynced();
  if (unsynced.length === 0) return { dropped: 0 };
  const boot = opts.bootId();
  const lost = unsynced.filter((r) => r.bootId !== boot);
  if (lost.length === 0) return { dropped: 0 };
  let dropped = 0;
  // A lost snapshot may be stacked on another lost one already dropped with it.
  for (const r of lost) if (meta.getById(r.id)) dropped += (await dropStack(meta, r.id, opts.dir)).length;
  opts.warn(
    `warning: ${dropped} cached snapshot${dropped === 1 ? "" : "s"} written before the machine went down had not been synced to disk: dropped, their steps will run again\n`,
  );
  return { dropped };
}
