/**
 * When a copy action onto an empty base reproduces its source exactly, so that its result can
 * be the source snapshot itself instead of a copy of it.
 *
 * The copier (copier.ts, as fsutil's copy) copying "/" onto an existing root keeps the root
 * directory it copies into: the root's mode, owner and xattrs stay the empty base's, only its
 * access and modification times are taken from the source root (fsutil's restoreTime). Below
 * the root it reproduces every entry with its owner, mode, times, xattrs and hard links, when no
 * filter, owner, mode or timestamp override applies. So a copy of a whole tree onto an empty
 * base gives exactly the source tree when, in addition, the source root's mode, owner and
 * xattrs are those of an empty base's root.
 */
import { lstatSync } from "node:fs";
import type { pb } from "../pb/index.ts";
import { cleanAbs } from "./safe-path.ts";
import { getXattr, listXattrs } from "./sys.ts";
import { hasWildcards } from "./wildcard.ts";

/**
 * True when the action copies all of its source's root to the destination's root keeping every
 * entry's metadata: no include/exclude patterns, no owner, mode or timestamp override, no
 * wildcard to expand. (followSymlink does not matter for the root, dirCopyContents neither when
 * the destination is the root, createDestPath nor alwaysReplaceExistingDestPaths on an empty
 * base, and the unpacking of ADD only applies to a file.) Owner mappings of the caller are
 * checked by the caller.
 */
export function copiesWholeTree(a: pb.FileActionCopy.$Properties): boolean {
  const src = a.src ?? "";
  return (
    cleanAbs(src) === "/" &&
    cleanAbs(a.dest ?? "") === "/" &&
    !(a.allowWildcard && hasWildcards(src)) &&
    (a.owner === null || a.owner === undefined) &&
    (a.mode ?? 0) === -1 &&
    (a.modeStr ?? "") === "" &&
    (a.timestamp ?? 0) === -1 &&
    (a.include_patterns ?? []).length === 0 &&
    (a.exclude_patterns ?? []).length === 0
  );
}

/**
 * True when `srcRoot` has the mode, owner and xattrs `emptyRoot` has: copying srcRoot's tree
 * onto emptyRoot then leaves nothing of emptyRoot's own but what equals the source.
 */
export function sameRootAttributes(srcRoot: string, emptyRoot: string): boolean {
  const s = lstatSync(srcRoot);
  const e = lstatSync(emptyRoot);
  if (!s.isDirectory() || !e.isDirectory()) return false;
  if ((s.mode & 0o7777) !== (e.mode & 0o7777) || s.uid !== e.uid || s.gid !== e.gid) return false;
  const names = listXattrs(srcRoot).sort();
  const emptyNames = listXattrs(emptyRoot).sort();
  if (names.join("\0") !== emptyNames.join("\0")) return false;
  return names.every((n) => Buffer.from(getXattr(srcRoot, n) ?? []).equals(Buffer.from(getXattr(emptyRoot, n) ?? [])));
}
