// Resolving a path inside a directory that stands for a root (a rootfs, a mounted snapshot) the
// way the container would see it: symlinks are followed with the directory as `/`, so an
// absolute link stays inside. A `..` that would climb above the directory is reported as an
// escape (and clamped at the directory, as securejoin does), so callers can refuse it.
import { lstatSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { BuildkitError } from "../../../core/errors.ts";

/** Linux's MAXSYMLINKS. */
const MAX_LINKS = 40;

export interface ScopedPath {
  /** The host path, inside root. */
  readonly path: string;
  /** True when a `..` (written or from a symlink) tried to leave root. */
  readonly escaped: boolean;
}

function components(path: string): string[] {
  return path.split("/").filter((part) => part !== "" && part !== ".");
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The host path of `unsafe` inside root. Components that do not exist are joined as written;
 * a loop of symlinks is an error.
 */
export function resolveScoped(root: string, unsafe: string): ScopedPath {
  let pending = components(unsafe);
  const resolved: string[] = [];
  let escaped = false;
  let links = 0;
  while (pending.length > 0) {
    const [part, ...rest] = pending as [string, ...string[]];
    pending = rest;
    if (part === "..") {
      if (resolved.length === 0) escaped = true;
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    const st = lstatOrUndefined(candidate);
    if (st?.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new BuildkitError("InvalidArgument", `resolving ${unsafe} in ${root}: too many levels of symbolic links`);
      const target = readlinkSync(candidate, "utf8");
      if (target.startsWith("/")) resolved.length = 0;
      pending = [...components(target), ...pending];
      continue;
    }
    resolved.push(part);
  }
  return { path: join(root, ...resolved), escaped };
}
