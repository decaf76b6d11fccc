import type { SnapshotRefs } from "../cache/refs.ts";
import type { Worker } from "../worker/worker.ts";

/** What every source needs: where results go. */
export interface SourceDeps {
  readonly worker: Worker;
  readonly refs: SnapshotRefs;
}
