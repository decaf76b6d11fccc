/**
 * Before a tree is copied over another: removes each path of `dest` whose entry in `src` is
 * of the other kind (a directory where dest has a non-directory, or a non-directory where dest
 * has a directory), as BuildKit's applier replaces such a path. A symlink counts as a
 * non-directory, whatever it points at. Directories both have are walked; nothing is followed.
 */
import { readdirSync, rmSync } from "node:fs";
import { lstatIfAny } from "./fs-error.ts";

export function removeTypeConflicts(src: string, dest: string, rel = ""): void {
  const sub = rel === "" ? "" : `/${rel}`;
  for (const entry of readdirSync(`${src}${sub}`, { withFileTypes: true })) {
    const path = `${dest}${sub}/${entry.name}`;
    const there = lstatIfAny(path);
    if (there === undefined) continue;
    const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory() !== there.isDirectory()) rmSync(path, { recursive: true, force: true });
    else if (entry.isDirectory()) removeTypeConflicts(src, dest, childRel);
  }
}

