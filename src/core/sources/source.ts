import type { SnapshotRefs } from "../cache/refs.ts";
import type { Worker } from "../worker/worker.ts";

/** What every source needs: where results go. */
export interface SourceDeps {
  readonly worker: Worker;
  readonly refs: SnapshotRefs;
}

/** The source schemes this engine knows, for error messages. */
export const SOURCE_SCHEMES = ["local", "docker-image", "git", "http", "https", "oci-layout"] as const;

export function schemeOf(identifier: string): string {
  const i = identifier.indexOf("://");
  return i < 0 ? "" : identifier.slice(0, i);
}
