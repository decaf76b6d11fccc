// The directories of a state root, made when missing; something else in their place (a file,
// a dangling symlink) is an error that names the path instead of mkdir's bare EEXIST/ENOTDIR.
import { lstatSync, mkdirSync } from "node:fs";
import { BuildkitError } from "../../core/errors.ts";

/** Makes `path` unless it is a directory already; true when it was made. */
export function ensureStateDir(path: string): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined) {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    return true;
  }
  if (!st.isDirectory()) {
    throw new BuildkitError("FailedPrecondition", `opening state directory: ${path} is not a directory (move or remove it)`);
  }
  return false;
}
