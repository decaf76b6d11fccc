/**
 * Checks a sender's listing before anything touches the disk (fsutil's Validator and Hardlinks,
 * stricter): every path is clean, relative and inside the destination; paths come in fsutil's
 * order; an entry's parent directory was itself sent, as a directory, just before its contents;
 * a hard link points at a file sent earlier. Together these mean the receiver has made every
 * parent a real directory before it writes a child, so no write can go through a symlink.
 */
import { BuildkitError } from "../../../core/errors.ts";
import { cleanPath } from "../../../core/fs/patterns.ts";
import { compareNames } from "../../../core/sources/local/walk.ts";
import { goModeKind } from "./file-mode.ts";
import type { Stat } from "./packet.ts";

interface OpenDir {
  readonly path: string;
  /** The last name seen in it. */
  last: string;
}

export class StatValidator {
  readonly #dirs: OpenDir[] = [{ path: "", last: "" }];
  /** Files a hard link may point at. */
  readonly #files = new Set<string>();

  /** Throws InvalidArgument, naming the path, when `stat` may not follow what came before. */
  check(stat: Stat): void {
    const { path } = stat;
    const bad = checkPath(path);
    if (bad) throw invalid(path, bad);
    const slash = path.lastIndexOf("/");
    const parent = slash < 0 ? "" : path.slice(0, slash);
    const name = path.slice(slash + 1);
    let top = this.#dirs.at(-1) as OpenDir;
    while (top.path !== parent && this.#dirs.length > 1) {
      this.#dirs.pop();
      top = this.#dirs.at(-1) as OpenDir;
    }
    if (top.path !== parent) throw invalid(path, "its parent directory was not sent before it");
    if (top.last !== "" && compareNames(name, top.last) <= 0) throw invalid(path, `out of order after ${JSON.stringify(join(parent, top.last))}`);
    top.last = name;
    const kind = goModeKind(stat.mode);
    switch (kind) {
      case "dir":
        this.#dirs.push({ path, last: "" });
        return;
      case "symlink":
        if (stat.linkname === "") throw invalid(path, "symlink without a target");
        return;
      case "socket":
      case "irregular":
        throw invalid(path, `unsupported file type (mode ${stat.mode.toString(8)})`);
      case "file":
      case "char":
      case "block":
      case "fifo":
        if (stat.linkname === "") this.#files.add(path);
        else if (!this.#files.has(stat.linkname)) throw invalid(path, `hard link to unknown path ${JSON.stringify(stat.linkname)}`);
        return;
      default: {
        const never: never = kind;
        throw invalid(path, `unknown kind ${String(never)}`);
      }
    }
  }
}

/** Why `path` can never be written inside the destination, or undefined when it can. */
function checkPath(path: string): string | undefined {
  if (path === "" || path === ".") return "empty path";
  if (path.includes("\0")) return "NUL byte in path";
  if (path.startsWith("/")) return "absolute path";
  if (path === ".." || path.startsWith("../")) return "escapes the destination";
  if (cleanPath(path) !== path) return "unclean path";
  return undefined;
}

function join(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

function invalid(path: string, why: string): BuildkitError {
  return new BuildkitError("InvalidArgument", `receiving files: invalid entry ${JSON.stringify(path)}: ${why}`);
}
