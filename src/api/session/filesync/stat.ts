/**
 * Walk entries as fsutil's Stat (its mkstat): Go file modes, sizes of non-directories, symlink
 * targets, device numbers, xattrs, and hard links: the second and later paths of a file with
 * several links carry the first path in `linkname` (the size stays the file's).
 */
import { lstatSync } from "node:fs";
import type { Entry } from "../../../core/sources/local/walk.ts";
import { getXattr, listXattrs, splitDev } from "../../../core/fs/sys.ts";
import { GoMode, toGoMode } from "./file-mode.ts";
import type { Stat } from "./packet.ts";

export interface StatMakerOptions {
  /** Read extended attributes (the sender does; the receiver's view of its own tree need not). */
  readonly xattrs?: boolean;
}

/** Turns a walk's entries into Stats, remembering inodes to spot hard links. */
export class StatMaker {
  readonly #root: string;
  readonly #xattrs: boolean;
  /** "dev:ino" → the first path seen with that inode. */
  readonly #inodes = new Map<string, string>();

  constructor(root: string, opts: StatMakerOptions = {}) {
    this.#root = root;
    this.#xattrs = opts.xattrs ?? false;
  }

  make(entry: Entry): Stat {
    // fsutil clears the socket bit, so a socket travels as an (empty) regular file.
    const mode = (toGoMode(entry.mode) & ~GoMode.socket) >>> 0;
    const stat: Stat = {
      path: entry.path,
      mode,
      uid: entry.uid,
      gid: entry.gid,
      size: 0,
      modTime: Number(entry.mtimeNs),
      linkname: "",
      devmajor: 0,
      devminor: 0,
      xattrs: {},
    };
    if (entry.type !== "dir") {
      stat.size = entry.size;
      if (entry.nlink > 1) this.#hardLink(entry, stat);
      if (entry.type === "symlink") stat.linkname = entry.linkTarget ?? "";
      if (mode & GoMode.device) this.#device(stat);
    }
    if (this.#xattrs) this.#loadXattrs(stat);
    return stat;
  }

  #hardLink(entry: Entry, stat: Stat): void {
    const key = `${entry.dev}:${entry.ino}`;
    const first = this.#inodes.get(key);
    if (first === undefined) this.#inodes.set(key, entry.path);
    else stat.linkname = first;
  }

  #device(stat: Stat): void {
    const st = lstatSync(`${this.#root}/${stat.path}`, { bigint: true, throwIfNoEntry: false });
    if (!st) return;
    const { major, minor } = splitDev(st.rdev);
    stat.devmajor = major;
    stat.devminor = minor;
  }

  #loadXattrs(stat: Stat): void {
    const abs = `${this.#root}/${stat.path}`;
    for (const name of listXattrs(abs)) {
      const value = getXattr(abs, name);
      if (value !== undefined) stat.xattrs[name] = value;
    }
  }
}
