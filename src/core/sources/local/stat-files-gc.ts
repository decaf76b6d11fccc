/**
 * The stat cache's files beside its database (stat-cache.ts): tree stamps and tree records
 * (`local-stat.db.stamps/`) and the last copies' records (`local-stat.db.copies/`), one or two
 * per local directory and filter set, up to a few MB each. They are caches of what a directory
 * held: GC removes those no build used for as long as an unused client mirror is kept, and a
 * full `prune --all` removes them all (the next build of such a directory checksums it again).
 *
 * A build refreshes a file's time when it reads one over a day old, so a directory built every
 * day keeps its files even when nothing in it changes (and nothing is rewritten).
 */
import { statSync, utimesSync } from "node:fs";
import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { statePath } from "../../worker/storage.ts";
import { UNUSED_TTL_MS } from "./mirror-gc.ts";

const DAY_MS = 24 * 3600 * 1000;
/** How long a temporary file is left alone even by a full prune. */
const TEMP_GRACE_MS = 3600 * 1000;

/** Marks files as used now when their time is over a day old (missing ones are skipped). */
export function touchIfOld(paths: readonly string[], now = Date.now()): void {
  for (const path of paths) {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined || now - st.mtimeMs < DAY_MS) continue;
    try {
      utimesSync(path, now / 1000, now / 1000);
    } catch {
      // read-only or gone: it may be collected sooner, which costs one checksum
    }
  }
}

/** The directories those files live in, under a worker's state root. */
export function statFileDirs(root: string): string[] {
  const db = statePath(root, "statCache");
  return [`${db}.stamps`, `${db}.copies`];
}

/**
 * Removes stat-cache files unused for UNUSED_TTL_MS (all of them with `all`), temporary ones a
 * killed writer left included; returns how many files and bytes went.
 */
export async function collectStatFiles(root: string, opts: { readonly now?: number; readonly all?: boolean } = {}): Promise<{ files: number; bytes: number }> {
  const now = opts.now ?? Date.now();
  let files = 0;
  let bytes = 0;
  for (const dir of statFileDirs(root)) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const path = join(dir, name);
      const st = await lstat(path).catch(() => undefined);
      if (!st?.isFile()) continue;
      const age = now - st.mtimeMs;
      // A temporary file may be a running build's stamp on its way in (serve prunes beside builds).
      if (opts.all ? name.endsWith(".tmp") && age < TEMP_GRACE_MS : age <= UNUSED_TTL_MS) continue;
      await rm(path, { force: true });
      files++;
      bytes += st.blocks * 512;
    }
  }
  return { files, bytes };
}
