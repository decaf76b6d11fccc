/**
 * The diff of two trees as a tree of its own: writes into `out` every entry of `upper` that is
 * new or changed compared with `lower` (type, mode, owner, size, modification time, link
 * target), with the directories that lead to it. Entries that exist only in `lower` are
 * deletions: not written, but returned (the top-most deleted path only, as a whiteout would
 * be), and their parent directory is part of the diff as a changed directory, as BuildKit's
 * differ has it. Devices, fifos and sockets are left out.
 *
 * `out` may already hold directories (a diff written over its deletion carrier,
 * worker/deletion-carrier.ts): those are given upper's metadata like the ones made here.
 *
 * Synchronous calls, paced (pacer.ts), as the other tree copies: files through the directory
 * pair held open (fd-copy.ts), times to the nanosecond, hard links within upper kept as links,
 * and each directory's owner, mode and times set once everything below it is written (writing
 * into a directory moves its mtime).
 */
import type { BigIntStats } from "node:fs";
import { chmodSync, constants, copyFileSync, lchownSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync } from "node:fs";
import { openDirPair } from "./fd-copy.ts";
import { errnoCode, lstatIfAny } from "./fs-error.ts";
import type { DirPair } from "./fd-copy.ts";
import { Pacer } from "./pacer.ts";
import { setTimesSync } from "./sys.ts";

export interface TreeDiffOptions {
  readonly signal?: AbortSignal;
  /** The deleted paths when the caller has found them already (findDeletions). */
  readonly deleted?: readonly string[];
  /** Called with the deleted paths before anything is written into out. */
  readonly beforeWrite?: (deleted: readonly string[]) => void | Promise<void>;
}

/** Writes the diff into out; returns the deleted paths (root-relative, no leading "/"). */
export async function writeTreeDiff(lower: string, upper: string, out: string, opts: TreeDiffOptions = {}): Promise<readonly string[]> {
  const deleted = opts.deleted ?? findDeletions(lower, upper);
  await opts.beforeWrite?.(deleted);
  const diff = new TreeDiff(lower, upper, out);
  const pacer = new Pacer(`diffing ${upper}`, opts.signal);
  try {
    for (const rel of deleted) {
      const slash = rel.lastIndexOf("/");
      if (slash > 0) diff.ensureDir(rel.slice(0, slash));
    }
    await diff.dir("", pacer);
  } finally {
    diff.finish();
  }
  return deleted;
}

/**
 * Paths in lower that upper does not have, top-most only: below a directory both have as
 * directories, each name only lower has. (A path whose type changed is not a deletion: upper's
 * entry replaces it.)
 */
export function findDeletions(lower: string, upper: string, rel = "", out: string[] = []): string[] {
  const sub = rel === "" ? "" : `/${rel}`;
  const upperNames = new Set(readdirSync(`${upper}${sub}`));
  for (const entry of readdirSync(`${lower}${sub}`, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (!upperNames.has(entry.name)) out.push(path);
    else if (entry.isDirectory() && lstatSync(`${upper}/${path}`).isDirectory()) findDeletions(lower, upper, path, out);
  }
  return out;
}

class TreeDiff {
  readonly #lower: string;
  readonly #upper: string;
  readonly #out: string;
  /** Directories made in out, in order, with the upper stats to give them at the end. */
  readonly #made: [string, BigIntStats][] = [];
  readonly #exists = new Set<string>([""]);
  /** First copy of each multiply-linked upper inode: its path in out. */
  readonly #links = new Map<string, string>();

  constructor(lower: string, upper: string, out: string) {
    this.#lower = lower;
    this.#upper = upper;
    this.#out = out;
  }

  async dir(rel: string, pacer: Pacer): Promise<void> {
    const sub = rel === "" ? "" : `/${rel}`;
    let pair: DirPair | undefined;
    try {
      for (const name of readdirSync(`${this.#upper}${sub}`).sort()) {
        const path = rel === "" ? name : `${rel}/${name}`;
        const u = lstatSync(`${this.#upper}/${path}`, { bigint: true });
        const l = lstatIfAny(`${this.#lower}/${path}`, { bigint: true });
        if (u.isDirectory()) {
          // A directory's times change with its children, which the diff carries anyway; only a
          // new directory or a changed mode or owner makes the directory itself part of it.
          if (!l?.isDirectory() || !sameOwnerAndMode(u, l)) this.ensureDir(path);
          await this.dir(path, pacer);
          continue;
        }
        const paused = pacer.tick();
        if (paused) await paused;
        if (l && sameMeta(u, l) && sameType(u, l) && (!u.isSymbolicLink() || readlinkSync(`${this.#upper}/${path}`) === readlinkSync(`${this.#lower}/${path}`))) continue;
        this.ensureDir(rel);
        if (!u.isFile() && !u.isSymbolicLink()) continue;
        const dst = `${this.#out}/${path}`;
        const first = u.nlink > 1n ? this.#links.get(`${u.dev}:${u.ino}`) : undefined;
        if (first !== undefined) linkSync(first, dst);
        else if (u.isSymbolicLink()) {
          symlinkSync(readlinkSync(`${this.#upper}/${path}`), dst);
          lchownSync(dst, Number(u.uid), Number(u.gid));
          setTimesSync(dst, u.atimeNs, u.mtimeNs);
        } else {
          pair ??= openDirPair(`${this.#upper}${sub}`, `${this.#out}${sub}`);
          const meta = { size: Number(u.size), mode: Number(u.mode), uid: Number(u.uid), gid: Number(u.gid), timeNs: u.mtimeNs, atimeNs: u.atimeNs };
          if (pair) pair.copyFile(name, meta);
          else copyWithPaths(`${this.#upper}/${path}`, dst, u);
          if (u.nlink > 1n) this.#links.set(`${u.dev}:${u.ino}`, dst);
        }
      }
    } finally {
      pair?.close();
    }
  }

  /** Sets the made directories' owner, mode and times, deepest first. */
  finish(): void {
    for (const [dir, st] of this.#made.toReversed()) setMeta(dir, st);
  }

  /** Makes `rel` and its missing parents in out, to be given upper's metadata at the end. */
  ensureDir(rel: string): void {
    if (this.#exists.has(rel)) return;
    const slash = rel.lastIndexOf("/");
    this.ensureDir(slash < 0 ? "" : rel.slice(0, slash));
    const dst = `${this.#out}/${rel}`;
    try {
      mkdirSync(dst, { mode: 0o700 });
    } catch (err) {
      if (errnoCode(err) !== "EEXIST" || !lstatSync(dst).isDirectory()) throw err;
    }
    this.#made.push([dst, lstatSync(`${this.#upper}/${rel}`, { bigint: true })]);
    this.#exists.add(rel);
  }
}


/** Without libc: Node's calls by path. */
function copyWithPaths(src: string, dst: string, st: BigIntStats): void {
  copyFileSync(src, dst, constants.COPYFILE_EXCL);
  setMeta(dst, st);
}

/** Owner first (chown clears set-id bits), then mode, then times. */
function setMeta(path: string, st: BigIntStats): void {
  lchownSync(path, Number(st.uid), Number(st.gid));
  chmodSync(path, Number(st.mode & 0o7777n));
  setTimesSync(path, st.atimeNs, st.mtimeNs);
}

function sameType(a: BigIntStats, b: BigIntStats): boolean {
  return (a.mode & 0o170000n) === (b.mode & 0o170000n);
}

function sameOwnerAndMode(a: BigIntStats, b: BigIntStats): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
}

function sameMeta(a: BigIntStats, b: BigIntStats): boolean {
  return sameOwnerAndMode(a, b) && a.size === b.size && a.mtimeNs === b.mtimeNs;
}
