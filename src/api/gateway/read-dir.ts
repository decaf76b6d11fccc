/**
 * LLBBridge ReadDir and StatFile on a mounted result, as BuildKit's cache/util/fsutil.go answers
 * them: fsutil Stats (Go file modes, xattrs) of a directory's entries, in name order (with an
 * include pattern: the entries that match or lead to a match, as fsutil's walk filters them),
 * and of one path (named by its last element, never followed).
 */
import { readdirSync } from "node:fs";
import { basename, dirname } from "node:path";
import { BuildkitError } from "../../core/errors.ts";
import { resolveInRoot } from "../../core/fs/safe-path.ts";
import { sortNames, statEntry, walkTree, type Entry } from "../../core/sources/local/walk.ts";
import type { Stat } from "../session/filesync/packet.ts";
import { StatMaker } from "../session/filesync/stat.ts";

export async function readDirStats(root: string, dirPath: string, includePattern: string): Promise<Stat[]> {
  const dir = await resolveInRoot(root, dirPath);
  const entries: Entry[] = [];
  try {
    if (includePattern === "") {
      for (const name of sortNames(readdirSync(dir))) {
        const entry = statEntry(dir, name);
        if (entry) entries.push(entry);
      }
    } else {
      for await (const entry of walkTree(dir, { include: [includePattern] })) if (!entry.path.includes("/")) entries.push(entry);
    }
  } catch (err) {
    throw notFound(`reading directory ${dirPath}`, err);
  }
  const maker = new StatMaker(dir, { xattrs: true });
  return entries.map((e) => maker.make(e));
}

export async function statFileAt(root: string, path: string): Promise<Stat> {
  const abs = await resolveInRoot(root, path, { followFinal: false });
  const entry = statEntry(dirname(abs), basename(abs));
  if (!entry) throw new BuildkitError("NotFound", `stat ${path}: no such file or directory`);
  return new StatMaker(dirname(abs), { xattrs: true }).make(entry);
}

function notFound(what: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR") return new BuildkitError("NotFound", `${what}: ${code === "ENOENT" ? "no such file or directory" : "not a directory"}`);
  return err instanceof Error ? err : new Error(String(err));
}
