/**
 * Garbage collection of the git source's bare cache repositories (ROOT/git/<hash>): one not
 * used for 30 days is removed (openBareRepo marks a repository used by touching it), and so are
 * half-made ones a killed process left. Called at the end of every prune, under the root lock;
 * a removed repository is simply fetched again when a build needs it.
 */
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { statePath } from "../../worker/storage.ts";

const UNUSED_TTL_MS = 30 * 86400e3;
const TEMP_TTL_MS = 3600e3;

export interface GitCacheGCReport {
  readonly repos: number;
}

export async function collectGitCache(root: string, now = Date.now()): Promise<GitCacheGCReport> {
  const dir = statePath(root, "git");
  let repos = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    const temp = name.includes(".tmp-");
    if (now - st.mtimeMs <= (temp ? TEMP_TTL_MS : UNUSED_TTL_MS)) continue;
    await rm(path, { recursive: true, force: true });
    if (!temp) repos++;
  }
  return { repos };
}
