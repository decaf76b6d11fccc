/**
 * Client side of FileSync.DiffCopy: serves the build's `--local` directories to the daemon,
 * which names one in the `dir-name` metadata and passes its filters along (BuildKit's
 * fsSyncProvider).
 */
import { BuildkitError } from "../../../core/errors.ts";
import { fileSyncDiffCopy } from "../methods.ts";
import { bidiHandler } from "../session.ts";
import type { Metadata, SessionHandler } from "../session.ts";
import { keyDirName, keyExcludePatterns, keyFollowPaths, keyIncludePatterns, keyOverrideExcludes } from "./metadata.ts";
import { sendDir } from "./send.ts";

export interface SyncedDir {
  readonly dir: string;
  /** The client's own excludes (a .dockerignore); they win unless the daemon overrides them. */
  readonly excludes?: readonly string[];
}

export interface FileSyncOptions {
  /** Called per transfer with the directory's name and the bytes sent so far. */
  readonly onProgress?: (name: string, bytes: number, done: boolean) => void;
}

export function fileSyncHandler(dirs: ReadonlyMap<string, SyncedDir>, opts: FileSyncOptions = {}): SessionHandler {
  return bidiHandler(fileSyncDiffCopy, async (stream, { metadata, signal }) => {
    const name = metadata[keyDirName]?.[0] ?? "";
    const dir = dirs.get(name);
    if (!dir) throw new BuildkitError("NotFound", `serving local dir: no access allowed to dir ${JSON.stringify(name)}`);
    const { onProgress } = opts;
    await sendDir(dir.dir, stream, {
      ...filters(metadata, dir),
      ...(onProgress ? { onProgress: (bytes: number, done: boolean) => onProgress(name, bytes, done) } : {}),
      signal,
    });
  });
}

function filters(md: Metadata, dir: SyncedDir) {
  let excludePatterns = md[keyExcludePatterns];
  if (dir.excludes && dir.excludes.length > 0 && md[keyOverrideExcludes]?.[0] !== "true") excludePatterns = dir.excludes;
  const includePatterns = md[keyIncludePatterns];
  const followPaths = md[keyFollowPaths];
  return {
    ...(includePatterns ? { includePatterns } : {}),
    ...(excludePatterns ? { excludePatterns } : {}),
    ...(followPaths ? { followPaths } : {}),
  };
}
