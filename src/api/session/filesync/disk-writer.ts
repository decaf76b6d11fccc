/**
 * Applies the receiver's changes to the destination directory (fsutil's DiskWriter): creates
 * directories, symlinks, hard links, devices and (empty, to be filled) regular files with their
 * metadata; replaces entries of another type; deletes. Paths come validated (validator.ts) and
 * in order, so every parent is a real directory by the time a child is written; nothing here
 * follows a symlink. Calls are synchronous: each is one or two fast syscalls on a local disk.
 */
import { chmodSync, closeSync, constants, linkSync, lchownSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, symlinkSync, writeSync } from "node:fs";
import { BuildkitError } from "../../../core/errors.ts";
import { makeDev, makeNode, setTimesSync, setXattr } from "../../../core/fs/sys.ts";
import { chmodBits, goModeKind, mknodMode } from "./file-mode.ts";
import type { Stat } from "./packet.ts";

export interface DiskWriterOptions {
  /** Set owners from the stats (needs root). */
  readonly chown: boolean;
}

const NEW_FILE = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW;

let tmpCounter = 0;

export class DiskWriter {
  readonly #dest: string;
  readonly #chown: boolean;
  /** Every incoming directory's modification time. */
  readonly #dirTimes = new Map<string, number>();
  /** Directories written, or whose contents changed: their times are set at the end. */
  readonly #touched = new Set<string>();

  constructor(dest: string, opts: DiskWriterOptions) {
    this.#dest = dest;
    this.#chown = opts.chown;
  }

  /** Removes `path` and anything below it. */
  delete(path: string): void {
    this.#touchParent(path);
    attempt(`removing ${path}`, () => rmSync(this.#abs(path), { recursive: true, force: true }));
  }

  /**
   * Writes the entry `stat` describes in place of whatever is at its path. For a regular file
   * the result is an empty file: fill it with a {@link FileWriter}, which then sets its metadata.
   */
  write(stat: Stat): FileWriter | undefined {
    const abs = this.#abs(stat.path);
    this.#touchParent(stat.path);
    return attempt(`writing ${stat.path}`, () => {
      const existing = lstatSync(abs, { throwIfNoEntry: false });
      const kind = goModeKind(stat.mode);
      if (kind === "dir") {
        if (!existing?.isDirectory()) {
          if (existing) rmSync(abs, { recursive: true, force: true });
          mkdirSync(abs, 0o700);
        }
        this.#touched.add(stat.path);
        this.#setMetadata(abs, stat, false);
        return undefined;
      }
      if (kind === "file" && stat.linkname === "") return this.#newFile(abs, stat, existing !== undefined);
      if (existing) rmSync(abs, { recursive: true, force: true });
      if (kind === "symlink") symlinkSync(stat.linkname, abs);
      else if (stat.linkname !== "") linkSync(this.#abs(stat.linkname), abs);
      else makeNode(abs, mknodMode(stat.mode), makeDev(stat.devmajor, stat.devminor));
      this.#setMetadata(abs, stat, true);
      return undefined;
    });
  }

  /** Records an incoming directory's time, changed or not: a change inside moves it. */
  noteDir(stat: Stat): void {
    this.#dirTimes.set(stat.path, stat.modTime);
  }

  /** Gives the directories written or changed inside their times back; call after all files. */
  finish(): void {
    for (const path of this.#touched) {
      const modTime = this.#dirTimes.get(path);
      if (modTime === undefined) continue;
      const ns = BigInt(Math.trunc(modTime));
      attempt(`setting the time of ${path}`, () => setTimesSync(this.#abs(path), ns, ns));
    }
  }

  #newFile(abs: string, stat: Stat, replace: boolean): FileWriter {
    // A changed file is written beside and renamed over, so hard links to the old one keep it.
    const target = replace ? `${abs.slice(0, abs.lastIndexOf("/"))}/.tmp.fsync.${process.pid}.${++tmpCounter}` : abs;
    closeSync(openSync(target, NEW_FILE, 0o600));
    if (replace) {
      if (lstatSync(abs, { throwIfNoEntry: false })?.isDirectory()) rmSync(abs, { recursive: true, force: true });
      renameSync(target, abs);
    }
    return new FileWriter(abs, stat, (path, s) => this.#setMetadata(path, s, true));
  }

  #setMetadata(abs: string, stat: Stat, times: boolean): void {
    for (const [name, value] of Object.entries(stat.xattrs)) {
      try {
        setXattr(abs, name, value);
      } catch {
        // As fsutil: an attribute the file system refuses (on a symlink, say) is dropped.
      }
    }
    if (this.#chown) lchownSync(abs, stat.uid, stat.gid);
    if (goModeKind(stat.mode) !== "symlink") chmodSync(abs, chmodBits(stat.mode));
    if (times) setTimesSync(abs, BigInt(Math.trunc(stat.modTime)), BigInt(Math.trunc(stat.modTime)));
  }

  /** A change inside a directory moves its time: remember to set it back. */
  #touchParent(path: string): void {
    const slash = path.lastIndexOf("/");
    if (slash > 0) this.#touched.add(path.slice(0, slash));
  }

  #abs(path: string): string {
    return `${this.#dest}/${path}`;
  }
}

/** Fills one regular file from DATA chunks, then sets its metadata and time. */
export class FileWriter {
  readonly #abs: string;
  readonly #stat: Stat;
  readonly #finish: (abs: string, stat: Stat) => void;
  #fd: number | undefined;
  bytes = 0;

  constructor(abs: string, stat: Stat, finish: (abs: string, stat: Stat) => void) {
    this.#abs = abs;
    this.#stat = stat;
    this.#finish = finish;
  }

  get path(): string {
    return this.#stat.path;
  }

  write(chunk: Uint8Array): void {
    attempt(`writing ${this.#stat.path}`, () => {
      // Opened on the first chunk, so files waiting for their data hold no descriptor.
      this.#fd ??= openSync(this.#abs, constants.O_WRONLY | constants.O_NOFOLLOW);
      for (let off = 0; off < chunk.length; ) off += writeSync(this.#fd, chunk, off);
    });
    this.bytes += chunk.length;
  }

  close(): void {
    attempt(`writing ${this.#stat.path}`, () => {
      if (this.#fd !== undefined) closeSync(this.#fd);
      this.#fd = undefined;
      this.#finish(this.#abs, this.#stat);
    });
  }

  /** Closes the descriptor after a failure, leaving the file as it is. */
  abandon(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

function attempt<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw wrap(what, err);
  }
}

function wrap(what: string, err: unknown): BuildkitError {
  if (err instanceof BuildkitError) return new BuildkitError(err.code, `receiving files: ${what}: ${err.message}`, { cause: err });
  return new BuildkitError("Internal", `receiving files: ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
