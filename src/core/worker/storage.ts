import { join } from "node:path";

/**
 * The names of what the engine keeps under a worker's state directory (Worker.root), in one
 * place. Backends keep their own data (snapshots, containers) beside these or elsewhere.
 */
export const STATE_NAMES = {
  /** Cache keys → results, sizes, last use (bun:sqlite). */
  cacheIndex: "cache.db",
  /** Local sources' stat cache (bun:sqlite). */
  statCache: "local-stat.db",
  /** The content index (index.db: layers by snapshot, blob sources) and, for the standalone worker, blobs/. */
  content: "content",
  /** Image names exported with push=false (the standalone stand-in for containerd's image store). */
  images: "images.json",
  /** Cache mounts' directories. */
  cacheMounts: "cache-mounts",
  /** Build traces (JSON lines). */
  traces: "traces",
  /** The http source's remembered responses. */
  http: "http",
  /** The git source's bare repositories. */
  git: "git",
  /** The daemon's copies of its clients' local directories, for incremental transfer. */
  localMirrors: "local-mirrors",
} as const;

export type StateName = keyof typeof STATE_NAMES;

export function statePath(root: string, name: StateName): string {
  return join(root, STATE_NAMES[name]);
}
