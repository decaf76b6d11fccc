/**
 * The copy file action (BuildKit's docopy + fsutil's Copy): expands wildcards in the source,
 * decides whether each source lands at the destination or inside it, creates missing
 * destination directories and hands each source to the {@link Copier}. Sources are resolved
 * inside the source root, destinations inside the destination root.
 */
import { lstat, stat } from "node:fs/promises";
import { posix } from "node:path";
import { BuildkitError } from "../errors.ts";
import type { pb } from "../pb/index.ts";
import { Copier } from "./copier.ts";
import { mkdirAll } from "./entry.ts";
import type { MkdirAllOptions } from "./entry.ts";
import { errnoCode, ifExists } from "./fs-error.ts";
import { resolveWildcards } from "./glob.ts";
import { isArchive, unpackArchive } from "./unpack.ts";
import { parseModeString } from "./mode-string.ts";
import type { Chowner } from "./owner.ts";
import { PatternMatcher } from "./patterns.ts";
import { cleanAbs, isInside, resolveInRoot, rootRelative } from "./safe-path.ts";

export interface CopyDirs {
  /** Root the source paths are resolved in. */
  src: string;
  /** Root the destination is resolved in (and written). */
  dest: string;
}

export interface CopyContext {
  chowner: Chowner;
  /** From the action's timestamp (-1 = keep the source's times). */
  timestampNs?: bigint;
  /** Files may be hard-linked when the copy keeps their metadata (see FileActionDirs.linkable). */
  linkable?: boolean;
  signal?: AbortSignal;
}

/** Go's filepath.Base for a path that may end in "/". */
function baseName(p: string): string {
  const trimmed = p.replace(/\/+$/, "");
  return trimmed === "" ? (p === "" ? "." : "/") : posix.basename(trimmed);
}

/** The directory part of dest for fsutil's "ensure dest path": "/a/b/c" → "/a/b/", "/a/" → "/a/". */
function ensureDestDir(dest: string): string {
  const slash = dest.lastIndexOf("/");
  const last = dest.slice(slash + 1);
  return last !== "" && last !== "." ? dest.slice(0, slash + 1) : dest;
}

function makeCopier(action: pb.FileActionCopy, ctx: CopyContext, dirs: CopyDirs): Copier {
  const include = action.include_patterns.length > 0 ? new PatternMatcher(action.include_patterns) : undefined;
  const exclude = action.exclude_patterns.length > 0 ? new PatternMatcher(action.exclude_patterns) : undefined;
  const keepsMetadata = action.modeStr === "" && action.mode === -1 && ctx.timestampNs === undefined;
  return new Copier({
    hardLink: (ctx.linkable ?? false) && keepsMetadata && !include && !exclude,
    signal: ctx.signal,
    chowner: ctx.chowner,
    mode: action.modeStr === "" && action.mode !== -1 ? action.mode : undefined,
    modeSet: action.modeStr === "" ? undefined : parseModeString(action.modeStr),
    timestampNs: ctx.timestampNs,
    include,
    exclude,
    alwaysReplaceExistingDestPaths: action.alwaysReplaceExistingDestPaths,
    display: (host) => rootRelative(isInside(dirs.dest, host) ? dirs.dest : dirs.src, host),
  });
}

/** Without createDestPath, the destination's parent directory must already exist. */
async function checkDestParent(destRoot: string, dest: string): Promise<void> {
  const p = await resolveInRoot(destRoot, dest);
  if (p === (await resolveInRoot(destRoot, "/"))) return;
  try {
    await lstat(posix.dirname(p));
  } catch (err) {
    const code = errnoCode(err) === "ENOENT" ? "NotFound" : "FailedPrecondition";
    throw new BuildkitError(code, `destination directory ${posix.dirname(cleanAbs(dest))} does not exist`, { cause: err });
  }
}

/** The sources to copy: the path itself, or its wildcard matches. */
async function expandSources(action: pb.FileActionCopy, srcRoot: string): Promise<string[]> {
  if (!action.allowWildcard) return [action.src];
  const matches = await resolveWildcards(srcRoot, action.src, action.followSymlink);
  if (matches.length === 0 && !action.allowEmptyWildcard) throw new BuildkitError("NotFound", "no files matched the wildcard");
  return matches;
}

/**
 * Where one source goes (fsutil's prepareTargetDir): into `dest` when dest is an existing
 * directory and the source is a file, or a directory copied as a whole; creates the parent.
 */
async function prepareTarget(
  source: { followed: string; path: string },
  dest: string,
  opts: MkdirAllOptions & { dirCopyContents: boolean; mkdirs: (path: string, opts: MkdirAllOptions) => Promise<void> },
): Promise<string> {
  const src = source.path;
  const srcIsDir = (await lstat(source.followed)).isDirectory();
  const destSt = await ifExists(() => stat(dest));
  let target = dest;
  if ((!opts.dirCopyContents && srcIsDir && destSt) || (!srcIsDir && destSt?.isDirectory())) target = posix.join(dest, baseName(src));
  const parent = opts.dirCopyContents && srcIsDir && !destSt ? target : posix.dirname(target);
  if (isInside(opts.root, parent)) await opts.mkdirs(parent, opts);
  return target;
}

/**
 * Applies a copy action from dirs.src into dirs.dest. Returns the allocated bytes of what it made
 * (the copied entries and the directories made for the destination path), or undefined when an
 * archive was unpacked (not counted).
 */
export async function copyAction(action: pb.FileActionCopy, dirs: CopyDirs, ctx: CopyContext): Promise<number | undefined> {
  if (!action.createDestPath) await checkDestParent(dirs.dest, action.dest);
  const copier = makeCopier(action, ctx, dirs);
  const sources = await expandSources(action, dirs.src);
  if (sources.length === 0) return 0;
  let counted = true;
  /** Directories made for the destination path: [first made, deepest]. */
  const made: [string, string][] = [];
  const mkdirs = async (path: string, opts: MkdirAllOptions) => {
    const first = await mkdirAll(path, opts);
    if (first !== undefined) made.push([first, path]);
  };
  const mk: MkdirAllOptions = { root: await resolveInRoot(dirs.dest, "/"), mode: 0o755, chowner: ctx.chowner, timestampNs: ctx.timestampNs };
  const ensure = ensureDestDir(action.dest);
  if (ensure !== "") await mkdirs(await resolveInRoot(dirs.dest, ensure), mk);
  const dest = await resolveInRoot(dirs.dest, action.dest);
  for (const src of sources) {
    if (action.attemptUnpackDockerCompatibility) {
      // ADD: an archive (after following every link, as BuildKit's RootPath does) is unpacked.
      const archive = await resolveInRoot(dirs.src, src, { followFinal: true });
      if (await isArchive(archive)) {
        await mkdirs(dest, mk);
        await unpackArchive(archive, dest, { display: cleanAbs(src) });
        counted = false;
        continue;
      }
    }
    const srcFollowed = await resolveInRoot(dirs.src, src, { followFinal: action.followSymlink });
    const target = await prepareTarget({ followed: srcFollowed, path: src }, dest, { ...mk, dirCopyContents: action.dirCopyContents, mkdirs });
    await copier.copyRoot(srcFollowed, target);
  }
  if (!counted) return undefined;
  let allocated = copier.allocated;
  const seen = new Set<string>();
  for (const [first, deepest] of made) {
    for (let d = deepest; !seen.has(d); d = posix.dirname(d)) {
      seen.add(d);
      allocated += Number((await lstat(d, { bigint: true })).blocks) * 512;
      if (d === first) break;
    }
  }
  return allocated;
}
