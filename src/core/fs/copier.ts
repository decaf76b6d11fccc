/**
 * The recursive part of BuildKit's copy (tonistiigi/fsutil copy's `copier`): `cp -a`
 * semantics from a source entry to a target path, with include/exclude patterns, delayed
 * creation of parent directories for included files, hard links kept within one copy, owner,
 * mode and timestamp overrides, and xattrs. Symlinks inside the tree are copied as symlinks,
 * never followed, and targets are checked with lstat, so nothing is read or written through
 * a link.
 */
import { chmod, constants, copyFile, link, mkdir, readdir, readlink, rm, symlink, unlink } from "node:fs/promises";
import { BuildkitError } from "../errors.ts";
import { lstatEntry, applyTimestamp } from "./entry.ts";
import type { Entry } from "./entry.ts";
import { toFsError } from "./fs-error.ts";
import type { ModeSet } from "./mode-string.ts";
import { applyOwner } from "./owner.ts";
import type { Chowner } from "./owner.ts";
import type { MatchState, PatternMatcher } from "./patterns.ts";
import { copyXattrs, makeNode, setTimes } from "./sys.ts";

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
  /** The parent's match states; undefined at the top (parents are then checked in full). */
  parentInclude?: MatchState;
  parentExclude?: MatchState;
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

  constructor(opts: CopierOptions) {
    this.#opts = opts;
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
    const fi = await lstatEntry(step.src);
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
    const targetFi = await lstatEntry(target);
    if (filter.include) {
      if (this.#opts.alwaysReplaceExistingDestPaths && targetFi && !(fi.kind === "dir" && targetFi.kind === "dir")) {
        await rm(target, { recursive: true, force: true });
      }
      await this.#createParentDirs(overwrite);
    }
    if (fi.kind !== "dir") {
      if (!filter.include) return;
      await this.#ensureEmptyFileTarget(target);
    }
    let copyInfo = filter.include;
    let restoreTimes = false;
    if (fi.kind === "dir") {
      const created = await this.#copyDirectory(step, fi, filter);
      if (!overwrite) [copyInfo, restoreTimes] = [created, !created];
    } else await this.#copyLeaf(src, fi, target);
    if (copyInfo) {
      await this.#copyFileInfo(fi, target);
      copyXattrs(src, target);
    } else if (restoreTimes && targetFi) await this.#copyTimes(fi, target);
  }

  async #copyLeaf(src: string, fi: Entry, target: string): Promise<void> {
    if (fi.kind === "file") {
      const first = fi.nlink > 1 ? this.#inodes.get(fi.inode) : undefined;
      if (first !== undefined) await link(first, target);
      else {
        await copyFile(src, target, constants.COPYFILE_EXCL);
        if (fi.nlink > 1) this.#inodes.set(fi.inode, target);
      }
    } else if (fi.kind === "symlink") await symlink(await readlink(src), target);
    else makeNode(target, fi.mode, fi.rdev);
  }

  async #copyDirectory(step: Step, fi: Entry, filter: Filter): Promise<boolean> {
    const { src, components, target: dst } = step;
    const parent: ParentDir = { src, dst, copied: false };
    let created = false;
    if (filter.include) {
      created = await this.#copyDirectoryOnly(dst, fi, step.overwrite);
      parent.copied = true;
    }
    this.#parents.push(parent);
    try {
      const names = (await readdir(src)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const name of names) {
        await this.#copy({
          src: `${src}/${name}`,
          components: components === "" ? name : `${components}/${name}`,
          target: `${dst}/${name}`,
          overwrite: true,
          parentInclude: filter.includeState,
          parentExclude: filter.excludeState,
        });
      }
    } finally {
      this.#parents.pop();
    }
    return created;
  }

  /** Creates the directory (true) or checks an existing one, updating its mode if asked. */
  async #copyDirectoryOnly(dst: string, fi: Entry, overwrite: boolean): Promise<boolean> {
    const st = await lstatEntry(dst);
    if (st === undefined) {
      await mkdir(dst, (fi.mode & 0o7777) | 0o700);
      return true;
    }
    if (st.kind !== "dir") throw new BuildkitError("FailedPrecondition", `cannot copy to non-directory: ${this.#opts.display(dst)}`);
    if (overwrite) await chmod(dst, fi.mode & 0o7777);
    return false;
  }

  /** Creates directories deferred by include patterns once something below them is copied. */
  async #createParentDirs(overwrite: boolean): Promise<void> {
    for (const parent of this.#parents) {
      if (parent.copied) continue;
      const fi = await lstatEntry(parent.src);
      if (fi?.kind !== "dir") throw new BuildkitError("FailedPrecondition", `${this.#opts.display(parent.src)} is not a directory`);
      if (await this.#copyDirectoryOnly(parent.dst, fi, overwrite)) {
        await this.#copyFileInfo(fi, parent.dst);
        copyXattrs(parent.src, parent.dst);
      }
      parent.copied = true;
    }
  }

  async #ensureEmptyFileTarget(target: string): Promise<void> {
    const st = await lstatEntry(target);
    if (st === undefined) return;
    if (st.kind === "dir") {
      throw new BuildkitError("FailedPrecondition", `cannot replace to directory ${this.#opts.display(target)} with file`);
    }
    await unlink(target);
  }

  /** Owner, mode and times of `fi` (or their overrides) onto `target`. */
  async #copyFileInfo(fi: Entry, target: string): Promise<void> {
    await applyOwner(target, this.#opts.chowner, { uid: fi.uid, gid: fi.gid });
    if (fi.kind !== "symlink") await chmod(target, this.#mode(fi));
    await this.#copyTimes(fi, target);
  }

  #mode(fi: Entry): number {
    if (this.#opts.modeSet) return this.#opts.modeSet.apply(fi.mode, fi.kind === "dir");
    if (this.#opts.mode !== undefined) return this.#opts.mode & 0o7777;
    return fi.mode & 0o7777;
  }

  async #copyTimes(fi: Entry, target: string): Promise<void> {
    if (this.#opts.timestampNs !== undefined) await applyTimestamp(target, this.#opts.timestampNs);
    else await setTimes(target, fi.atimeNs, fi.mtimeNs);
  }
}
