/**
 * BuildKit's file-op backend on plain directories (solver/llbsolver/file/backend.go): one
 * FileAction (mkdir, mkfile, rm, symlink or copy) applied to `base`, the directory the action
 * modifies, with copy reading from `secondary`. Every path is resolved with resolveInRoot, so
 * `..`, absolute symlinks and symlink chains stay inside their root. Errors are BuildkitErrors
 * reading `verb path: cause`.
 */
import { chmod, constants, mkdir, open, rm, symlink } from "node:fs/promises";
import { posix } from "node:path";
import { BuildkitError } from "../errors.ts";
import { exactInt64, withExactInt64 } from "../pb/decode.ts";
import { pb } from "../pb/index.ts";
import { copyAction } from "./copy.ts";
import { applyDirMode, applyTimestamp, lstatEntry, mkdirAll } from "./entry.ts";
import { actionError, errnoCode, fsError } from "./fs-error.ts";
import { resolveWildcards } from "./glob.ts";
import { applyOwner, chownerFor, readOwner } from "./owner.ts";
import type { Chowner, IdentityMapping, UserRootResolver } from "./owner.ts";
import { cleanAbs, resolveInRoot } from "./safe-path.ts";

export interface FileActionDirs {
  /** The directory the action modifies: a writable copy of its input, or empty for scratch. */
  base: string;
  /** The copy source's directory. */
  secondary?: string;
  /**
   * The copy source is an immutable snapshot's own directory and base a snapshot no one writes
   * to except through overlayfs copy-up: a copy that keeps metadata may hard-link files.
   */
  linkable?: boolean;
}

export interface FileActionOptions {
  /** User namespace maps: owners are written as host ids. */
  idmap?: IdentityMapping;
  /** Directory holding /etc/passwd and /etc/group for a named owner's input (default: base). */
  userRoot?: UserRootResolver;
  /**
   * Called once a copy is done with the allocated bytes of what it made (see copyAction); not
   * called for other actions, nor when the copy could not count (an unpacked archive).
   */
  onAllocated?: (bytes: number) => void;
}

/** An action's timestamp in nanoseconds since the epoch (exact, past 2^53), or undefined for -1 ("keep"). */
function timestampNs(a: { readonly timestamp: number }): bigint | undefined {
  return a.timestamp === -1 ? undefined : exactInt64(a, "timestamp");
}

interface Ownership {
  chowner: Chowner;
  /** No owner given and no id mapping: copies keep their source's owner. */
  keepsOwner: boolean;
}

async function ownership(owner: pb.ChownOpt.$Properties | null | undefined, dirs: FileActionDirs, opts: FileActionOptions): Promise<Ownership> {
  const resolved = await readOwner(owner, opts.userRoot ?? (() => dirs.base));
  return { chowner: chownerFor(resolved, opts.idmap), keepsOwner: resolved === undefined && opts.idmap === undefined };
}

async function mkdirAction(a: pb.FileActionMkDir, base: string, own: Ownership): Promise<void> {
  const p = await resolveInRoot(base, a.path);
  const mode = a.mode & 0o777;
  const ts = timestampNs(a);
  if (a.makeParents) {
    await mkdirAll(p, { root: base, mode, chowner: own.chowner, timestampNs: ts });
    return;
  }
  try {
    await mkdir(p, mode);
  } catch (err) {
    if (errnoCode(err) === "EEXIST") return;
    if (errnoCode(err) === "ENOENT") throw fsError("NotFound", "parent directory does not exist");
    throw err;
  }
  await applyDirMode(p, mode);
  await applyOwner(p, own.chowner);
  await applyTimestamp(p, ts);
}

async function mkfileAction(a: pb.FileActionMkFile, base: string, own: Ownership): Promise<void> {
  const p = await resolveInRoot(base, a.path);
  const existing = await lstatEntry(p);
  if (existing?.kind === "dir") throw fsError("FailedPrecondition", "is a directory");
  const mode = a.mode & 0o777;
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
  let fh;
  try {
    fh = await open(p, flags, mode);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") throw fsError("NotFound", "parent directory does not exist");
    throw err;
  }
  try {
    await fh.writeFile(a.data ?? new Uint8Array());
  } finally {
    await fh.close();
  }
  if (existing === undefined) await chmod(p, mode);
  await applyOwner(p, own.chowner);
  await applyTimestamp(p, timestampNs(a));
}

/** Removes one path; a symlink in its last component is removed, not followed. */
async function rmPath(base: string, path: string, allowNotFound: boolean): Promise<void> {
  const clean = cleanAbs(path);
  if (clean === "/") throw fsError("InvalidArgument", "cannot remove the root directory");
  const dir = await resolveInRoot(base, posix.dirname(clean));
  const target = `${dir === "/" ? "" : dir}/${posix.basename(clean)}`;
  if (!allowNotFound && (await lstatEntry(target)) === undefined) throw fsError("NotFound", "no such file or directory");
  await rm(target, { recursive: true, force: true });
}

async function rmAction(a: pb.FileActionRm, base: string): Promise<void> {
  const paths = a.allowWildcard ? await resolveWildcards(base, a.path, false) : [a.path];
  for (const p of paths) await rmPath(base, p, a.allowNotFound);
}

async function symlinkAction(a: pb.FileActionSymlink, base: string, own: Ownership): Promise<void> {
  if (a.newpath === "") throw fsError("InvalidArgument", "empty path");
  const p = await resolveInRoot(base, a.newpath);
  await symlink(a.oldpath, p);
  await applyOwner(p, own.chowner);
  await applyTimestamp(p, timestampNs(a));
}

async function copy(a: pb.FileActionCopy, dirs: FileActionDirs, own: Ownership, onAllocated?: (bytes: number) => void): Promise<void> {
  if (dirs.secondary === undefined) throw fsError("InvalidArgument", "no source directory");
  const linkable = (dirs.linkable ?? false) && own.keepsOwner;
  const allocated = await copyAction(a, { src: dirs.secondary, dest: dirs.base }, { chowner: own.chowner, timestampNs: timestampNs(a), linkable });
  if (allocated !== undefined) onAllocated?.(allocated);
}

/** Runs `fn`, turning any failure into `verb path: cause`. */
async function labelled(verb: string, path: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    throw actionError(verb, path, err);
  }
}

/**
 * Applies one file action to dirs.base (and, for copy, from dirs.secondary). Proto3 defaults
 * apply to unset fields, so as with BuildKit's Go client a timestamp or copy mode of -1 means
 * "keep" and an unset one means 0.
 */
export async function applyFileAction(action: pb.FileAction.$Properties, dirs: FileActionDirs, opts: FileActionOptions = {}): Promise<void> {
  if (action.mkdir) {
    const a = withExactInt64(new pb.FileActionMkDir(action.mkdir), action.mkdir);
    return labelled("mkdir", a.path, async () => mkdirAction(a, dirs.base, await ownership(a.owner, dirs, opts)));
  }
  if (action.mkfile) {
    const a = withExactInt64(new pb.FileActionMkFile(action.mkfile), action.mkfile);
    return labelled("mkfile", a.path, async () => mkfileAction(a, dirs.base, await ownership(a.owner, dirs, opts)));
  }
  if (action.rm) {
    const a = new pb.FileActionRm(action.rm);
    return labelled("rm", a.path, () => rmAction(a, dirs.base));
  }
  if (action.symlink) {
    const a = withExactInt64(new pb.FileActionSymlink(action.symlink), action.symlink);
    return labelled("symlink", a.newpath, async () => symlinkAction(a, dirs.base, await ownership(a.owner, dirs, opts)));
  }
  if (action.copy) {
    const a = withExactInt64(new pb.FileActionCopy(action.copy), action.copy);
    return labelled("copy", a.src, async () => copy(a, dirs, await ownership(a.owner, dirs, opts), opts.onAllocated));
  }
  throw new BuildkitError("InvalidArgument", "file action: no action set");
}
