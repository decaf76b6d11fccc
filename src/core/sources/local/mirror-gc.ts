import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { statePath } from "../../worker/storage.ts";

/** A client directory's copy unused for this long goes (its next build transfers it whole again). */
export const UNUSED_TTL_MS = 7 * 24 * 3600 * 1000;

/** The file beside a copy whose time says when a build last took the copy. */
export function mirrorStamp(mirror: string): string {
  return `${mirror}.used`;
}

/**
 * Removes the daemon's copies of client directories (ROOT/local-mirrors) that no build took for
 * a week. A build stamps its copy when it takes it, so a copy in use is never this old.
 */
export async function collectLocalMirrors(root: string, now = Date.now()): Promise<{ mirrors: number }> {
  const dir = statePath(root, "localMirrors");
  let mirrors = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.endsWith(".used")) continue;
    const path = join(dir, name);
    const used = (await stat(mirrorStamp(path)).catch(() => undefined)) ?? (await stat(path).catch(() => undefined));
    if (used === undefined || now - used.mtimeMs <= UNUSED_TTL_MS) continue;
    await rm(path, { recursive: true, force: true });
    await rm(mirrorStamp(path), { force: true });
    mirrors++;
  }
  return { mirrors };
}
