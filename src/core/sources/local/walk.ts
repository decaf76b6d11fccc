/**
 * Walks a local source directory (`--local NAME=PATH`) in a stable order, applying BuildKit's
 * local-source filters: include patterns, exclude patterns and follow paths (symlinks whose
 * targets are added to the include patterns, as fsutil does). Patterns come from the source's
 * attributes only; a `.dockerignore` is the frontend's business, not read here.
 *
 * Order: depth first, siblings sorted byte-wise by name, a directory before its contents. That is
 * the byte-wise order of the paths with "/" sorting before every other byte (Go's WalkDir and
 * fsutil order), so "a", "a/b", "a.txt".
 *
 * A directory that is filtered out but holds included paths is emitted just before the first of
 * them; a subtree nothing inside which could be included is not read at all.
 */
import type { BigIntStats, Dirent } from "node:fs";
import { lstatSync, readdirSync, readlinkSync, promises as fsp } from "node:fs";
import { BuildkitError, withContext } from "../../errors.ts";
import { followLinks } from "./follow-paths.ts";
import { Pacer } from "../../fs/pacer.ts";
import { closeDirectory, lstatAt, openDirectory, statxAvailable } from "../../fs/statx.ts";
import type { WalkStat } from "../../fs/statx.ts";
import { PatternMatcher } from "../../fs/patterns.ts";
import type { MatchState } from "../../fs/patterns.ts";

export type EntryType = "file" | "dir" | "symlink" | "other";

export interface Entry {
  /** Relative to the root, "/"-separated, never empty. */
  readonly path: string;
  readonly type: EntryType;
  /** st_mode: permission bits and type bits. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtimeNs: bigint;
  /** Status change time: moves on every write and cannot be set back, unlike mtime. */
  readonly ctimeNs: bigint;
  readonly ino: bigint;
  readonly dev: bigint;
  readonly nlink: number;
  /** Allocated 512-byte blocks. */
  readonly blocks: number;
  /** For symlinks: the target as stored, never followed. */
  readonly linkTarget?: string;
}

export interface WalkOptions {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly followPaths?: readonly string[];
  readonly signal?: AbortSignal;
}

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

/**
 * Resolves the root of local source `name` to a real absolute path, refusing anything that is not
 * a directory (a symlink to a directory is fine) with NotFound.
 */
export async function resolveLocalRoot(root: string, name: string): Promise<string> {
  const notDir = (cause?: unknown) =>
    new BuildkitError("NotFound", `local source ${name}: ${root} is not a directory`, cause === undefined ? undefined : { cause });
  let real: string;
  try {
    real = await fsp.realpath(root);
  } catch (err) {
    throw notDir(err);
  }
  const st = await fsp.stat(real).catch(() => undefined);
  if (!st?.isDirectory()) throw notDir();
  return real;
}

/**
 * Yields the filtered entries under the directory `root` in walk order. Symlinks inside are
 * reported, never followed. A missing root or one that is not a directory is NotFound.
 */
export async function* walkTree(root: string, opts: WalkOptions = {}): AsyncGenerator<Entry, void, undefined> {
  const pacer = new Pacer(`walking ${root}`, opts.signal);
  for (const entry of entries(root, opts, pacer)) {
    yield entry;
    const paused = pacer.tick();
    if (paused) await paused;
  }
}

/**
 * {@link walkTree} handing each entry to `onEntry`: the same walk without a promise per entry
 * (an async generator's step costs about a microsecond; a tree has tens of thousands).
 */
export async function walkTreeEach(root: string, opts: WalkOptions, onEntry: (entry: Entry) => void): Promise<void> {
  const pacer = new Pacer(`walking ${root}`, opts.signal);
  for (const entry of entries(root, opts, pacer)) {
    onEntry(entry);
    const paused = pacer.tick();
    if (paused) await paused;
  }
}

/** The walk itself, synchronous: callers pace it (pacer.tick between entries). */
function* entries(root: string, opts: WalkOptions, pacer: Pacer): Generator<Entry, void, undefined> {
  const filter = makeFilter(root, opts);
  /** Ancestors of the current path that were filtered out but are walked: emitted on demand. */
  const pending: Entry[] = [];
  const fast = statxAvailable();
  const stack: Frame[] = [{ dir: "", state: {}, dirents: readDir(root, ""), next: 0, fd: fast ? openFrameDir(root, "") : undefined }];
  try {
    yield* walkFrames(root, filter, pending, stack, pacer);
  } finally {
    for (const frame of stack) if (frame.fd !== undefined) closeDirectory(frame.fd);
  }
}

function* walkFrames(root: string, filter: Filter, pending: Entry[], stack: Frame[], pacer: Pacer): Generator<Entry, void, undefined> {
  const fast = statxAvailable();
  for (let frame = stack.at(-1); frame !== undefined; frame = stack.at(-1)) {
    const dirent = frame.dirents[frame.next++];
    if (dirent === undefined) {
      stack.pop();
      if (frame.fd !== undefined) closeDirectory(frame.fd);
      if (frame.entry !== undefined && pending.at(-1) === frame.entry) pending.pop();
      continue;
    }
    const path = frame.dir === "" ? dirent.name : `${frame.dir}/${dirent.name}`;
    // Types readdir could not tell (DT_UNKNOWN) count as possible directories until lstat says.
    const maybeDir = dirent.isDirectory() || !(dirent.isFile() || dirent.isSymbolicLink());
    const verdict = judge(filter, path, maybeDir, frame.state);
    if (!verdict.emit && !verdict.descend) continue;
    const entry = frame.fd === undefined ? statEntry(root, path) : statEntryAt(frame.fd, root, path, dirent.name);
    if (entry === undefined) continue; // removed since readdir
    if (verdict.emit) {
      if (pending.length > 0) yield* pending.splice(0);
      yield entry;
    }
    if (verdict.descend && entry.type === "dir") {
      if (!verdict.emit) pending.push(entry);
      pacer.check();
      const dirents = readDir(root, path);
      stack.push({ dir: path, state: verdict.state, dirents, next: 0, entry, fd: fast && dirents.length > 0 ? openFrameDir(root, path) : undefined });
    }
  }
}

/** The directory held open for its entries' lstat; undefined (path lstat) when it cannot be opened. */
function openFrameDir(root: string, dir: string): number | undefined {
  try {
    return openDirectory(dir === "" ? root : `${root}/${dir}`);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR", "ELOOP")) return undefined; // replaced since: lstat by path says what is there
    throw withContext(`opening directory ${root}/${dir}`, err);
  }
}

interface Filter {
  readonly include?: PatternMatcher;
  readonly exclude?: PatternMatcher;
}

/** A directory being walked: its sorted entries and the next one to look at. */
interface Frame {
  readonly dir: string;
  readonly entry?: Entry;
  readonly state: DirState;
  readonly dirents: readonly Dirent[];
  next: number;
  /** The directory held open (statx.ts), when it could be. */
  readonly fd?: number;
}

interface DirState {
  readonly include?: MatchState;
  readonly exclude?: MatchState;
}

function makeFilter(root: string, opts: WalkOptions): Filter {
  let include = [...(opts.include ?? [])];
  if (opts.followPaths && opts.followPaths.length > 0) {
    const targets = followLinks(root, opts.followPaths);
    // As fsutil: following "." means the whole root, so no include filter at all.
    include = targets.includes(".") ? [] : [...include, ...targets];
  }
  const exclude = opts.exclude ?? [];
  return {
    ...(include.length > 0 ? { include: new PatternMatcher(include) } : {}),
    ...(exclude.length > 0 ? { exclude: new PatternMatcher(exclude) } : {}),
  };
}

interface Verdict {
  readonly emit: boolean;
  readonly descend: boolean;
  readonly state: DirState;
}

const NO_FILTER: DirState = {};

function judge(filter: Filter, path: string, isDir: boolean, parent: DirState): Verdict {
  const { include, exclude } = filter;
  if (!include && !exclude) return { emit: true, descend: isDir, state: NO_FILTER };
  const inc = include?.match(path, parent.include);
  const exc = exclude?.match(path, parent.exclude);
  const emit = (inc?.matched ?? true) && !(exc?.matched ?? false);
  let descend = isDir;
  if (descend && inc && include && !inc.matched) descend = include.mayFlipInside(path, inc);
  if (descend && exc && exclude && exc.matched) descend = exclude.mayFlipInside(path, exc);
  const state: DirState = { ...(inc ? { include: inc } : {}), ...(exc ? { exclude: exc } : {}) };
  return { emit, descend, state };
}

function readDir(root: string, dir: string): Dirent[] {
  const abs = dir === "" ? root : `${root}/${dir}`;
  let dirents: Dirent[];
  try {
    dirents = readdirSync(abs, { withFileTypes: true });
  } catch (err) {
    if (!isErrno(err, "ENOENT", "ENOTDIR")) throw withContext(`reading directory ${abs}`, err);
    if (dir === "") throw new BuildkitError("NotFound", `walking ${root}: not a directory`, { cause: err });
    return []; // removed or replaced since its parent was read
  }
  return dirents.sort((a, b) => compareNames(a.name, b.name));
}

function statEntry(root: string, path: string): Entry | undefined {
  const abs = `${root}/${path}`;
  let st: BigIntStats | undefined;
  let linkTarget: string | undefined;
  try {
    st = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
    if (st?.isSymbolicLink()) linkTarget = readlinkSync(abs);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR", "EINVAL")) return undefined;
    throw withContext(`reading ${abs}`, err);
  }
  return st ? toEntry(path, st, linkTarget) : undefined;
}

/** statEntry through the entry's directory held open. */
function statEntryAt(dirfd: number, root: string, path: string, name: string): Entry | undefined {
  let st: WalkStat | undefined;
  let linkTarget: string | undefined;
  try {
    st = lstatAt(dirfd, name);
    if (st !== undefined && (st.mode & S_IFMT) === S_IFLNK) linkTarget = readlinkSync(`${root}/${path}`);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR", "EINVAL")) return undefined;
    throw withContext(`reading ${root}/${path}`, err);
  }
  if (st === undefined) return undefined;
  const { mode, uid, gid, size, mtimeNs, ctimeNs, ino, dev, nlink, blocks } = st;
  return { path, type: entryType(mode), mode, uid, gid, size, mtimeNs, ctimeNs, ino, dev, nlink, blocks, linkTarget };
}

function toEntry(path: string, st: BigIntStats, linkTarget: string | undefined): Entry {
  const mode = Number(st.mode);
  return {
    path,
    type: entryType(mode),
    mode,
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: Number(st.size),
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    ino: st.ino,
    dev: st.dev,
    nlink: Number(st.nlink),
    blocks: Number(st.blocks),
    linkTarget,
  };
}

export function entryType(mode: number): EntryType {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "dir";
    case S_IFLNK:
      return "symlink";
    default:
      return "other";
  }
}

/** Byte-wise (UTF-8) order of two names; UTF-16 order agrees except around surrogates. */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  if (hasHighChar(a) || hasHighChar(b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : 1;
}

function hasHighChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0xd800) return true;
  return false;
}

export function isErrno(err: unknown, ...codes: string[]): boolean {
  return err instanceof Error && "code" in err && typeof err.code === "string" && codes.includes(err.code);
}
