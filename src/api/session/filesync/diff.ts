/**
 * The receiver's comparison of what it has with what is coming (fsutil's doubleWalkDiff with
 * DiffMetadata): both listings are in fsutil's path order, so one merge pass finds the entries
 * to add, to replace and to delete. A file is kept when its size, modification time, mode, owner,
 * device numbers and link target all match; a directory when all but size and time match.
 *
 * Each side is read lazily, one entry ahead, after the previous change was applied: the
 * destination walk reads a directory only after the receiver has dealt with the directory
 * itself, so it never sees what the receiver is creating.
 */
import { goModeKind } from "./file-mode.ts";
import type { Stat } from "./packet.ts";

export type Change =
  | { readonly kind: "add"; readonly stat: Stat }
  | { readonly kind: "modify"; readonly stat: Stat }
  | { readonly kind: "delete"; readonly path: string };

export type NextStat = () => Promise<Stat | undefined>;

/** Changes that turn the tree listed by `current` into the one listed by `incoming`. */
export async function* diffListings(current: NextStat, incoming: NextStat): AsyncGenerator<Change, void, undefined> {
  let a = await current();
  let b = await incoming();
  /** A directory (with its "/") whose contents are gone with it: skip them. */
  let removed: string | undefined;
  while (a !== undefined || b !== undefined) {
    const order = a === undefined ? 1 : b === undefined ? -1 : comparePaths(a.path, b.path);
    if (order < 0) {
      const old = a as Stat;
      if (removed === undefined || !old.path.startsWith(removed)) {
        yield { kind: "delete", path: old.path };
        removed = isDir(old) ? `${old.path}/` : undefined;
      }
      a = await current();
    } else if (order > 0) {
      yield { kind: "add", stat: b as Stat };
      removed = undefined;
      b = await incoming();
    } else {
      const [old, next] = [a as Stat, b as Stat];
      if (!sameEntry(old, next)) yield { kind: "modify", stat: next };
      removed = isDir(old) && !isDir(next) ? `${old.path}/` : undefined;
      a = await current();
      b = await incoming();
    }
  }
}

/** fsutil's path order: byte-wise, with "/" before every other byte ("a", "a/b", "a.txt"). */
export function comparePaths(p1: string, p2: string): number {
  if (p1 === p2) return 0;
  const a = Buffer.from(p1);
  const b = Buffer.from(p2);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const [x, y] = [a[i] as number, b[i] as number];
    if (x === y) continue;
    if (x === 0x2f) return -1;
    if (y === 0x2f) return 1;
    return x - y;
  }
  return a.length - b.length;
}

/** fsutil's sameFile for DiffMetadata. */
export function sameEntry(a: Stat, b: Stat): boolean {
  if (!isDir(a) && (a.size !== b.size || a.modTime !== b.modTime)) return false;
  return (
    a.mode === b.mode &&
    a.uid === b.uid &&
    a.gid === b.gid &&
    a.devmajor === b.devmajor &&
    a.devminor === b.devminor &&
    a.linkname === b.linkname
  );
}

function isDir(stat: Stat): boolean {
  return goModeKind(stat.mode) === "dir";
}
