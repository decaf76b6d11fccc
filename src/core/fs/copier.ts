/**
 * The recursive part of BuildKit's copy (tonistiigi/fsutil copy's `copier`): `cp -a`
 * semantics from a source entry to a target path, with include/exclude patterns, delayed
 * creation of parent directories for included files, hard links kept within one copy, owner,
 * mode and timestamp overrides, and xattrs. Symlinks inside the tree are copied as symlinks,
 * never followed, and targets are checked with lstat, so nothing is read or written through
 * a link.
 *
 * Every call is a synchronous syscall (file data by copy_file_range or a reflink), the loop
 * yielding to the event loop every few milliseconds: per-entry promises through the thread pool
 * cost about 200 µs a file. Files inside a copied directory go through the directory pair held
 * open (fd-copy.ts: data, owner, mode and times on the new file's descriptor). Under a directory
 * the copy itself created nothing can exist yet, so targets there are not looked at. With `hardLink`, files are linked to the source instead of
 * copied (the caller vouches that the source is immutable and that later writes to the target
 * go through overlayfs copy-up), and their metadata, shared with the source, is not touched.
 *
 * `allocated` counts what the copy made as a disk-usage walk would (each inode once, allocated
 * blocks): files, links and symlinks as their sources are allocated, directories as made.
 */
import { chmodSync, constants, copyFileSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { BuildkitError } from "../errors.ts";
import { lstatEntryAt, lstatEntrySync } from "./entry.ts";
import { statxAvailable } from "./statx.ts";
import type { Entry } from "./entry.ts";
import { errnoCode, toFsError } from "./fs-error.ts";
import type { ModeSet } from "./mode-string.ts";
import { applyOwnerSync } from "./owner.ts";
import type { Chowner } from "./owner.ts";
import { Pacer } from "./pacer.ts";
import type { MatchState, PatternMatcher } from "./patterns.ts";
import { copyXattrs, makeNode, setTimesSync } from "./sys.ts";
import { openDirPair } from "./fd-copy.ts";
import type { DirPair, FileMeta } from "./fd-copy.ts";

export interface CopierOptions {
  chowner: Chowner;
  /** Overrides permission bits (and setuid/setgid/sticky) of every copied entry. */
  mode?: number;
  modeSet?: ModeSet;
  timestampNs?: bigint;
  include?: PatternMatcher;
  exclude?: PatternMatcher;
  alwaysReplaceExistingDestPaths: boolean;
  /** Host path → the path shown in errors (root-relative). */
  display: (host: string) => string;
  /** Link regular files to the source instead of copying them (see the module comment). */
  hardLink?: boolean;
  signal?: AbortSignal;
}

interface ParentDir {
  src: string;
  dst: string;
  copied: boolean;
}

/** One entry to copy: source, its path below the copy's top, and where it goes. */
interface Step {
  src: string;
  components: string;
  target: string;
  /** Below the top: existing directories take the source's mode. */
  overwrite: boolean;
  /** The target's parent was created by this copy: the target cannot exist. */
  fresh?: boolean;
  /** The parent's match states; undefined at the top (parents are then checked in full). */
  parentInclude?: MatchState;
  parentExclude?: MatchState;
  /** Below the top: the entry's name, and its source and target directories held open. */
  name?: string;
  pair?: DirPair;
}

interface Filter {
  include: boolean;
  includeState?: MatchState;
  excludeState?: MatchState;
}

export class Copier {
  readonly #opts: CopierOptions;
  readonly #inodes = new Map<string, string>();
  readonly #parents: ParentDir[] = [];
  readonly #pacer: Pacer;
  #hardLink: boolean;
  /** Files linked to the source rather than copied. */
  linked = 0;
  /** Allocated bytes of the entries this copier made (see the module comment). */
  allocated = 0;

  constructor(opts: CopierOptions) {
    this.#opts = opts;
    this.#hardLink = opts.hardLink ?? false;
    this.#pacer = new Pacer("copying", opts.signal);
  }

  /** Copies host path `src` to host path `target` (the top of one copy). */
  async copyRoot(src: string, target: string): Promise<void> {
    await this.#copy({ src, components: "", target, overwrite: false });
  }

  #filter(step: Step): Filter {
    if (step.components === "") return { include: true };
    const inc = this.#opts.include?.match(step.components, step.parentInclude);
    const exc = this.#opts.exclude?.match(step.components, step.parentExclude);
    return { include: (inc?.matched ?? true) && !(exc?.matched ?? false), includeState: inc, excludeState: exc };
  }

  async #copy(step: Step): Promise<void> {
    const paused = this.#pacer.tick();
    if (paused) await paused;
    const fi = step.pair !== undefined && step.name !== undefined && statxAvailable() ? lstatEntryAt(step.pair.src, step.name) : lstatEntrySync(step.src);
    const filter = this.#filter(step);
    if (fi === undefined) {
      if (!filter.include) return;
      throw toFsError(Object.assign(new Error("missing"), { code: "ENOENT" }), this.#opts.display(step.src));
    }
    // With no "!" re-inclusions, nothing below an excluded directory can be copied.
    if (!filter.include && !this.#opts.include && !(this.#opts.exclude?.hasExclusions ?? false)) return;
    try {
      await this.#copyEntry(step, fi, filter);
    } catch (err) {
      throw toFsError(err, this.#opts.display(step.target));
    }
  }

  async #copyEntry(step: Step, fi: Entry, filter: Filter): Promise<void> {
    const { src, target, overwrite } = step;
    const targetFi = step.fresh ? undefined : lstatEntrySync(target);
    if (filter.include) {
      if (this.#opts.alwaysReplaceExistingDestPaths && targetFi && !(fi.kind === "dir" && targetFi.kind === "dir")) {
        rmSync(target, { recursive: true, force: true });
      }
      this.#createParentDirs(overwrite);
    }
    if (fi.kind !== "dir") {
      if (!filter.include) return;
      if (!step.fresh) this.#ensureEmptyFileTarget(target);
    }
    let copyInfo = filter.include;
    let restoreTimes = false;
    if (fi.kind === "dir") {
      const created = await this.#copyDirectory(step, fi, filter);
      if (!overwrite) [copyInfo, restoreTimes] = [created, !created];
    } else {
      const made = this.#copyLeaf(step, fi);
      if (made === "linked") return;
      if (made === "complete") {
        copyXattrs(src, target);
        return;
      }
    }
    if (copyInfo) {
      this.#copyFileInfo(fi, target);
      copyXattrs(src, target);
    } else if (restoreTimes && targetFi) this.#copyTimes(fi, target);
  }

  /**
   * "linked" when target is now the source's own inode, whose metadata must not be touched;
   * "complete" when it was copied with its owner, mode and times; "made" otherwise.
   */
  #copyLeaf(step: Step, fi: Entry): "linked" | "made" | "complete" {
    const { src, target } = step;
    if (fi.kind === "file") {
      if (this.#hardLink && this.#linkToSource(src, target)) {
        this.allocated += fi.blocks * 512;
        return "linked";
      }
      const first = fi.nlink > 1 ? this.#inodes.get(fi.inode) : undefined;
      if (first !== undefined) linkSync(first, target);
      else {
        this.allocated += fi.blocks * 512;
        const complete = step.pair !== undefined && step.name !== undefined;
        if (complete) step.pair?.copyFile(step.name ?? "", this.#fileMeta(fi));
        else copyFileSync(src, target, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
        if (fi.nlink > 1) this.#inodes.set(fi.inode, target);
        if (complete) return "complete";
      }
    } else if (fi.kind === "symlink") {
      symlinkSync(readlinkSync(src), target);
      this.allocated += fi.blocks * 512;
    } else makeNode(target, fi.mode, fi.rdev);
    return "made";
  }

  /** Links target to src; false (copy instead) when the file systems or link counts refuse. */
  #linkToSource(src: string, target: string): boolean {
    try {
      linkSync(src, target);
      this.linked++;
      return true;
    } catch (err) {
      const code = errnoCode(err);
      if (code === "EXDEV" || code === "EPERM") this.#hardLink = false;
      else if (code !== "EMLINK") throw err;
      return false;
    }
  }

  async #copyDirectory(step: Step, fi: Entry, filter: Filter): Promise<boolean> {
    const { src, components, target: dst } = step;
    const parent: ParentDir = { src, dst, copied: false };
    let created = false;
    if (filter.include) {
      created = step.fresh ? this.#mkdir(dst, fi) : this.#copyDirectoryOnly(dst, fi, step.overwrite);
      parent.copied = true;
    }
    this.#parents.push(parent);
    // Held open only where the target directory exists (an excluded one is made on demand).
    let pair: DirPair | undefined;
    try {
      const names = readdirSync(src).sort(compareBytes);
      if (parent.copied && names.length > 0) pair = openDirPair(src, dst);
      for (const name of names) {
        await this.#copy({
          src: `${src}/${name}`,
          components: components === "" ? name : `${components}/${name}`,
          target: `${dst}/${name}`,
          overwrite: true,
          fresh: created,
          parentInclude: filter.includeState,
          parentExclude: filter.excludeState,
          name,
          pair,
        });
      }
    } finally {
      pair?.close();
      this.#parents.pop();
    }
    if (created) this.allocated += Number(lstatSync(dst, { bigint: true }).blocks) * 512;
    return created;
  }

  /** Creates the directory (true) or checks an existing one, updating its mode if asked. */
  #copyDirectoryOnly(dst: string, fi: Entry, overwrite: boolean): boolean {
    const st = lstatEntrySync(dst);
    if (st === undefined) return this.#mkdir(dst, fi);
    if (st.kind !== "dir") throw new BuildkitError("FailedPrecondition", `cannot copy to non-directory: ${this.#opts.display(dst)}`);
    if (overwrite) chmodSync(dst, fi.mode & 0o7777);
    return false;
  }

  #mkdir(dst: string, fi: Entry): true {
    mkdirSync(dst, (fi.mode & 0o7777) | 0o700);
    return true;
  }

  /** Creates directories deferred by include patterns once something below them is copied. */
  #createParentDirs(overwrite: boolean): void {
    for (const parent of this.#parents) {
      if (parent.copied) continue;
      const fi = lstatEntrySync(parent.src);
      if (fi?.kind !== "dir") throw new BuildkitError("FailedPrecondition", `${this.#opts.display(parent.src)} is not a directory`);
      if (this.#copyDirectoryOnly(parent.dst, fi, overwrite)) {
        this.allocated += fi.blocks * 512; // made late, filled later: its source's size
        this.#copyFileInfo(fi, parent.dst);
        copyXattrs(parent.src, parent.dst);
      }
      parent.copied = true;
    }
  }

  #ensureEmptyFileTarget(target: string): void {
    const st = lstatEntrySync(target);
    if (st === undefined) return;
    if (st.kind === "dir") {
      throw new BuildkitError("FailedPrecondition", `cannot replace to directory ${this.#opts.display(target)} with file`);
    }
    unlinkSync(target);
  }

  /** Owner, mode and times of `fi` (or their overrides) onto `target`. */
  #copyFileInfo(fi: Entry, target: string): void {
    applyOwnerSync(target, this.#opts.chowner, { uid: fi.uid, gid: fi.gid });
    if (fi.kind !== "symlink") chmodSync(target, this.#mode(fi));
    this.#copyTimes(fi, target);
  }

  /** What #copyFileInfo would set, for a copy through a directory pair. */
  #fileMeta(fi: Entry): FileMeta {
    const owner = this.#opts.chowner({ uid: fi.uid, gid: fi.gid });
    const ts = this.#opts.timestampNs;
    // Only the permission, set-id and sticky bits of the mode are used.
    return { size: fi.size, mode: this.#mode(fi), timeNs: ts ?? fi.mtimeNs, atimeNs: ts ?? fi.atimeNs, ...(owner ? { uid: owner.uid, gid: owner.gid } : {}) };
  }

  #mode(fi: Entry): number {
    if (this.#opts.modeSet) return this.#opts.modeSet.apply(fi.mode, fi.kind === "dir");
    // As fsutil's copy: the mode's permission bits over the source's setuid, setgid and sticky
    // bits (a mode's own special bits are dropped: Go's os.FileMode keeps them elsewhere).
    if (this.#opts.mode !== undefined) return (fi.mode & 0o7000) | (this.#opts.mode & 0o777);
    return fi.mode & 0o7777;
  }

  #copyTimes(fi: Entry, target: string): void {
    const ts = this.#opts.timestampNs;
    if (ts !== undefined) setTimesSync(target, ts, ts);
    else setTimesSync(target, fi.atimeNs, fi.mtimeNs);
  }
}

/** Byte-wise (UTF-8) order of names, as Go sorts them; UTF-16 order agrees below surrogates. */
function compareBytes(a: string, b: string): number {
  if (/[\ud800-\uffff]/.test(a) || /[\ud800-\uffff]/.test(b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : a > b ? 1 : 0;
}
