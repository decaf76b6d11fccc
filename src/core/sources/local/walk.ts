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
import type { BigIntStats } from "node:fs";
import { lstatSync, readdirSync, readlinkSync, promises as fsp } from "node:fs";
import { BuildkitError, withContext } from "../../errors.ts";
import { followLinks } from "./follow-paths.ts";
import { Pacer } from "../../fs/pacer.ts";
import { closeDirectory, openDirectory, statxAvailable, statxDev, statxNameBytes, statxRaw, statxWords } from "../../fs/statx.ts";
import { LastBigInt, secondsNs } from "./last-bigint.ts";
import { WalkRecords } from "./walk-records.ts";
import { walkAllRecords } from "./walk-all.ts";
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
  const out: Entry[] = [];
  const walker = new Walker(root, opts, pacer, eachSink((entry) => out.push(entry)));
  try {
    while (walker.step()) {
      if (out.length > 0) {
        for (const entry of out) yield entry;
        out.length = 0;
      }
      const paused = pacer.tick();
      if (paused) await paused;
    }
  } finally {
    walker.close();
  }
}

/**
 * {@link walkTree} handing each entry to `onEntry`: the same walk without a promise per entry
 * (an async generator's step costs about a microsecond; a tree has tens of thousands).
 */
export async function walkTreeEach(root: string, opts: WalkOptions, onEntry: (entry: Entry) => void): Promise<void> {
  await drive(root, opts, eachSink(onEntry));
}

function eachSink(onEntry: (entry: Entry) => void): Sink {
  return {
    statx: (_depth, path, _name, _nameLength, mode, linkTarget) => onEntry(statxEntry(path, mode, linkTarget)),
    entry: (_depth, entry) => onEntry(entry),
  };
}

/**
 * The same walk kept as compact records (walk-records.ts): its stat stamp, and the entries only
 * when asked for.
 */
export async function walkTreeRecords(root: string, opts: WalkOptions): Promise<WalkRecords> {
  const records = new WalkRecords();
  const filtered = [opts.include, opts.exclude, opts.followPaths].some((p) => p !== undefined && p.length > 0);
  if (!filtered && statxAvailable()) {
    await walkAllRecords(root, records, new Pacer(`walking ${root}`, opts.signal));
    return records;
  }
  await drive(root, opts, {
    statx: (depth, _path, name, nameLength, _mode, linkTarget) => records.addStatx(depth, name, statxNameBytes, 0, nameLength, statxWords, linkTarget),
    entry: (depth, entry) => records.addEntry(depth, entry),
  });
  return records;
}

async function drive(root: string, opts: WalkOptions, sink: Sink): Promise<void> {
  const pacer = new Pacer(`walking ${root}`, opts.signal);
  const walker = new Walker(root, opts, pacer, sink);
  try {
    for (let n = 1; walker.step(); n++) {
      if ((n & 63) !== 0) continue; // a step is microseconds: look at the clock now and then
      const paused = pacer.tick();
      if (paused) await paused;
    }
  } finally {
    walker.close();
  }
}

/** Where a walk's entries go, in walk order; depth 1 is the root's children. */
interface Sink {
  /** An entry just looked at through statx: its facts are statx.ts's statxWords until the next call. */
  statx(depth: number, path: string, name: string, nameLength: number, mode: number, linkTarget: string | undefined): void;
  /** An entry the walk has as an object (the lstat fallback, or an ancestor emitted late). */
  entry(depth: number, entry: Entry): void;
}

/** A directory filtered out but walked: emitted just before the first entry inside that is. */
interface PendingDir {
  readonly entry: Entry;
  readonly depth: number;
}

/** The walk itself, synchronous, one directory entry a step: callers pace it between steps. */
class Walker {
  readonly #root: string;
  readonly #filter: Filter;
  readonly #pacer: Pacer;
  readonly #sink: Sink;
  readonly #fast = statxAvailable();
  /** Whether readdir's types are wanted: only a filter looks at an entry before its lstat. */
  readonly #typed: boolean;
  /** Ancestors of the current path that were filtered out but are walked: emitted on demand. */
  readonly #pending: PendingDir[] = [];
  readonly #stack: Frame[];
  /** A directory to enter at the next step: its entries are read after it was handed over. */
  #descend: { readonly path: string; readonly state: DirState; readonly pending?: PendingDir } | undefined;

  constructor(root: string, opts: WalkOptions, pacer: Pacer, sink: Sink) {
    this.#root = root;
    this.#filter = makeFilter(root, opts);
    this.#pacer = pacer;
    this.#sink = sink;
    this.#typed = this.#filter.include !== undefined || this.#filter.exclude !== undefined;
    this.#stack = [{ dir: "", state: {}, ...readDir(root, "", this.#typed), next: 0, fd: this.#fast ? openFrameDir(root, "") : undefined }];
  }

  close(): void {
    for (const frame of this.#stack.splice(0)) if (frame.fd !== undefined) closeDirectory(frame.fd);
  }

  /** Looks at the next directory entry, emitting what it brings; false when the walk is over. */
  step(): boolean {
    if (this.#descend !== undefined) this.#enter(this.#descend);
    const stack = this.#stack;
    const frame = stack.at(-1);
    if (frame === undefined) return false;
    const index = frame.next++;
    const name = frame.names[index];
    if (name === undefined) {
      stack.pop();
      if (frame.fd !== undefined) closeDirectory(frame.fd);
      if (frame.pending !== undefined && this.#pending.at(-1) === frame.pending) this.#pending.pop();
      return true;
    }
    const depth = stack.length;
    const path = frame.dir === "" ? name : `${frame.dir}/${name}`;
    const verdict = judge(this.#filter, path, frame.maybeDirs?.[index] ?? true, frame.state);
    if (!verdict.emit && !verdict.descend) return true;
    let isDir: boolean;
    let entry: Entry | undefined;
    if (frame.fd !== undefined) {
      const mode = this.#statAt(frame.fd, path, name);
      if (mode < 0) return true; // removed since readdir
      isDir = (mode & S_IFMT) === S_IFDIR;
      if (verdict.emit) {
        this.#flushPending();
        this.#sink.statx(depth, path, name, this.#nameLength, mode, this.#linkTarget);
      } else if (verdict.descend && isDir) entry = statxEntry(path, mode, undefined);
    } else {
      entry = statEntry(this.#root, path);
      if (entry === undefined) return true;
      isDir = entry.type === "dir";
      if (verdict.emit) {
        this.#flushPending();
        this.#sink.entry(depth, entry);
      }
    }
    if (verdict.descend && isDir) {
      const pending = verdict.emit || entry === undefined ? undefined : { entry, depth };
      if (pending !== undefined) this.#pending.push(pending);
      this.#descend = { path, state: verdict.state, pending };
    }
    return true;
  }

  #flushPending(): void {
    if (this.#pending.length > 0) for (const p of this.#pending.splice(0)) this.#sink.entry(p.depth, p.entry);
  }

  #enter({ path, state, pending }: { readonly path: string; readonly state: DirState; readonly pending?: PendingDir }): void {
    this.#descend = undefined;
    this.#pacer.check();
    const list = readDir(this.#root, path, this.#typed);
    this.#stack.push({ dir: path, state, ...list, next: 0, pending, fd: this.#fast && list.names.length > 0 ? openFrameDir(this.#root, path) : undefined });
  }

  /** Of the last {@link #statAt}. */
  #nameLength = 0;
  #linkTarget: string | undefined;

  /** statx through the entry's directory held open: its st_mode, or -1 when it is gone. */
  #statAt(dirfd: number, path: string, name: string): number {
    this.#linkTarget = undefined;
    try {
      const nameLength = statxRaw(dirfd, name);
      if (nameLength < 0) return -1;
      this.#nameLength = nameLength;
      const mode = statxWords[7]! & 0xffff;
      if ((mode & S_IFMT) === S_IFLNK) this.#linkTarget = readlinkSync(`${this.#root}/${path}`);
      return mode;
    } catch (err) {
      if (isErrno(err, "ENOENT", "ENOTDIR", "EINVAL")) return -1;
      throw withContext(`reading ${this.#root}/${path}`, err);
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
  /** When the directory itself was filtered out: its place in the pending list. */
  readonly pending?: PendingDir;
  readonly state: DirState;
  readonly names: readonly string[];
  /**
   * With a filter, per name: whether it may be a directory (readdir's type; DT_UNKNOWN counts
   * as one until lstat says). Without, every entry is looked at anyway.
   */
  readonly maybeDirs?: readonly boolean[];
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
const ALL_DIR: Verdict = { emit: true, descend: true, state: NO_FILTER };
const ALL_LEAF: Verdict = { emit: true, descend: false, state: NO_FILTER };

function judge(filter: Filter, path: string, isDir: boolean, parent: DirState): Verdict {
  const { include, exclude } = filter;
  if (!include && !exclude) return isDir ? ALL_DIR : ALL_LEAF;
  const inc = include?.match(path, parent.include);
  const exc = exclude?.match(path, parent.exclude);
  const emit = (inc?.matched ?? true) && !(exc?.matched ?? false);
  let descend = isDir;
  if (descend && inc && include && !inc.matched) descend = include.mayFlipInside(path, inc);
  if (descend && exc && exclude && exc.matched) descend = exclude.mayFlipInside(path, exc);
  const state: DirState = { ...(inc ? { include: inc } : {}), ...(exc ? { exclude: exc } : {}) };
  return { emit, descend, state };
}

/** A directory's names in walk order (byte-wise), with readdir's types when `typed`. */
function readDir(root: string, dir: string, typed: boolean): { names: string[]; maybeDirs?: boolean[] } {
  const abs = dir === "" ? root : `${root}/${dir}`;
  try {
    if (!typed) return { names: sortNames(readdirSync(abs)) };
    const dirents = readdirSync(abs, { withFileTypes: true }).sort((a, b) => compareNames(a.name, b.name));
    return { names: dirents.map((d) => d.name), maybeDirs: dirents.map((d) => d.isDirectory() || !(d.isFile() || d.isSymbolicLink())) };
  } catch (err) {
    if (!isErrno(err, "ENOENT", "ENOTDIR")) throw withContext(`reading directory ${abs}`, err);
    if (dir === "") throw new BuildkitError("NotFound", `walking ${root}: not a directory`, { cause: err });
    return { names: [] }; // removed or replaced since its parent was read
  }
}

/** Sorts names byte-wise: the engine's own string order agrees when no name has a surrogate. */
export function sortNames(names: string[]): string[] {
  for (const name of names) if (hasHighChar(name)) return names.sort(compareNames);
  return names.sort();
}

/** The entry at root/path, never following a symlink; undefined when there is none. */
export function statEntry(root: string, path: string): Entry | undefined {
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

/** The Entry of the last statxRaw call (its words in statxWords). */
function statxEntry(path: string, mode: number, linkTarget: string | undefined): Entry {
  const w = statxWords;
  return {
    path,
    type: entryType(mode),
    mode,
    uid: w[5]!,
    gid: w[6]!,
    size: w[10]! + w[11]! * 2 ** 32,
    mtimeNs: seconds.of(w[28]!, w[29]!) + BigInt(w[30]!),
    ctimeNs: seconds.of(w[24]!, w[25]!) + BigInt(w[26]!),
    ino: BigInt(w[8]!) | (BigInt(w[9]!) << 32n),
    dev: statxDev(),
    nlink: w[4]!,
    blocks: w[12]! + w[13]! * 2 ** 32,
    linkTarget,
  };
}

/** statx timestamps' seconds in nanoseconds: a tree's entries share a few. */
const seconds = new LastBigInt(secondsNs);

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
