/**
 * Copies a local source's (filtered) tree into a snapshot directory. Preserves permission bits,
 * ownership (when running as root), modification times, symlinks as links (never followed, even
 * when they point outside the root) and hard links between files of the tree. File data is copied
 * by the kernel (copy_file_range, or a reflink where the filesystem can), several files at once.
 * Sockets, fifos and devices are skipped and counted.
 */
import { chmodSync, chownSync, lchownSync, linkSync, lutimesSync, mkdirSync, promises as fsp, constants, symlinkSync, utimesSync } from "node:fs";
import { BuildkitError, withContext } from "../../errors.ts";
import { resolveLocalRoot, walkTree } from "./walk.ts";
import type { Entry, WalkOptions } from "./walk.ts";

export interface CopyOptions extends WalkOptions {
  /** The source's name, for error messages. */
  readonly name?: string;
  /** Files copied at once; default 16. */
  readonly concurrency?: number;
}

export interface CopyResult {
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  /** Files made as hard links to an earlier copy instead of being copied again. */
  readonly hardlinks: number;
  /** Entries that are neither files, directories nor symlinks. */
  readonly skipped: number;
  /** Bytes of file data copied. */
  readonly bytes: number;
}

/** Copies the filtered tree at `root` into `dest`, an existing (empty) directory. */
export async function copyTree(root: string, dest: string, opts: CopyOptions = {}): Promise<CopyResult> {
  const realRoot = await resolveLocalRoot(root, opts.name ?? root);
  const target = await fsp.stat(dest).catch(() => undefined);
  if (!target?.isDirectory()) {
    throw new BuildkitError("FailedPrecondition", `copying local source ${opts.name ?? root}: destination ${dest} is not a directory`);
  }
  const copier = new TreeCopier(realRoot, dest, opts.concurrency ?? 16);
  try {
    for await (const entry of walkTree(realRoot, opts)) await copier.add(entry);
  } catch (err) {
    await copier.drain().catch(() => undefined); // the walk's error is the one to report
    throw err;
  }
  await copier.drain();
  copier.finishDirs();
  return copier.result();
}

/**
 * Lets at most `limit` tasks run; `run` waits for a free slot and hands back the task's
 * completion (wrapped, so that awaiting `run` does not wait for the task). Keeps the first failure.
 */
class Limiter {
  readonly #limit: number;
  readonly #running = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  async run(task: () => Promise<void>): Promise<{ readonly done: Promise<void> }> {
    while (this.#running.size >= this.#limit) await Promise.race(this.#running);
    this.#check();
    const promise: Promise<void> = task()
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => this.#running.delete(promise));
    this.#running.add(promise);
    return { done: promise };
  }

  async drain(): Promise<void> {
    await Promise.all(this.#running);
    this.#check();
  }

  #check(): void {
    if (this.#failure) throw this.#failure.error;
  }
}

class TreeCopier {
  readonly #root: string;
  readonly #dest: string;
  readonly #limiter: Limiter;
  readonly #asRoot = process.getuid?.() === 0;
  /** Directories whose metadata is set last: adding children changes their mtime. */
  readonly #dirs: Entry[] = [];
  /** First copy of each multiply-linked inode: its destination and when it is done. */
  readonly #links = new Map<string, { readonly dst: string; readonly done: Promise<void> }>();
  #files = 0;
  #symlinks = 0;
  #hardlinks = 0;
  #skipped = 0;
  #bytes = 0;

  constructor(root: string, dest: string, concurrency: number) {
    this.#root = root;
    this.#dest = dest;
    this.#limiter = new Limiter(concurrency);
  }

  async add(entry: Entry): Promise<void> {
    const dst = `${this.#dest}/${entry.path}`;
    switch (entry.type) {
      case "dir":
        return this.#step(dst, () => this.#mkdir(entry, dst));
      case "file":
        return this.#addFile(entry, dst);
      case "symlink":
        return this.#step(dst, () => this.#symlink(entry, dst));
      case "other":
        this.#skipped++;
        return;
      default: {
        const never: never = entry.type;
        throw new Error(`unknown entry type ${String(never)}`);
      }
    }
  }

  drain(): Promise<void> {
    return this.#limiter.drain();
  }

  /** Sets directory metadata deepest first, once nothing more is written into them. */
  finishDirs(): void {
    for (const entry of this.#dirs.toReversed()) {
      const dst = `${this.#dest}/${entry.path}`;
      this.#step(dst, () => this.#setMetadata(entry, dst));
    }
  }

  result(): CopyResult {
    const [files, dirs, symlinks, hardlinks, skipped, bytes] = [this.#files, this.#dirs.length, this.#symlinks, this.#hardlinks, this.#skipped, this.#bytes];
    return { files, dirs, symlinks, hardlinks, skipped, bytes };
  }

  async #addFile(entry: Entry, dst: string): Promise<void> {
    const key = `${entry.dev}:${entry.ino}`;
    const first = entry.nlink > 1 ? this.#links.get(key) : undefined;
    if (first) {
      this.#hardlinks++;
      await this.#limiter.run(async () => {
        await first.done;
        this.#step(dst, () => linkSync(first.dst, dst));
      });
      return;
    }
    this.#files++;
    this.#bytes += entry.size;
    const { done } = await this.#limiter.run(() => this.#copyFile(entry, dst));
    if (entry.nlink > 1) this.#links.set(key, { dst, done });
  }

  async #copyFile(entry: Entry, dst: string): Promise<void> {
    const src = `${this.#root}/${entry.path}`;
    try {
      // EXCL: never write through whatever might already be at dst; FICLONE: reflink if possible.
      await fsp.copyFile(src, dst, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    } catch (err) {
      throw withContext(`copying ${src} to ${dst}`, err);
    }
    this.#step(dst, () => this.#setMetadata(entry, dst));
  }

  #mkdir(entry: Entry, dst: string): void {
    mkdirSync(dst, { mode: 0o700 });
    this.#dirs.push(entry);
  }

  #symlink(entry: Entry, dst: string): void {
    symlinkSync(entry.linkTarget ?? "", dst);
    this.#symlinks++;
    if (this.#asRoot) lchownSync(dst, entry.uid, entry.gid);
    const seconds = toSeconds(entry.mtimeNs);
    lutimesSync(dst, seconds, seconds);
  }

  /** Owner first: chown clears set-uid and set-gid bits, which chmod then restores. */
  #setMetadata(entry: Entry, dst: string): void {
    if (this.#asRoot) chownSync(dst, entry.uid, entry.gid);
    chmodSync(dst, entry.mode & 0o7777);
    const seconds = toSeconds(entry.mtimeNs);
    utimesSync(dst, seconds, seconds);
  }

  #step(dst: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof BuildkitError) throw err;
      throw withContext(`copying local source to ${dst}`, err);
    }
  }
}

/** Seconds as a double: Node's utimes takes no nanoseconds; precision is about 0.1 µs. */
function toSeconds(ns: bigint): number {
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}
