// Resolving a path inside a directory that stands for a root (a rootfs, a mounted snapshot) the
// way the container would see it: symlinks are followed with the directory as `/`, so an
// absolute link stays inside. A `..` that would climb above the directory is reported as an
// escape (and clamped at the directory, as securejoin does), so callers can refuse it.
import { lstatSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { BuildkitError } from "../../../core/errors.ts";
import { components, runWalkSync, walkInRoot } from "../../../core/fs/root-walk.ts";

export interface ScopedPath {
  /** The host path, inside root. */
  readonly path: string;
  /** True when a `..` (written or from a symlink) tried to leave root. */
  readonly escaped: boolean;
}

function symlinkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path, "utf8") : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The host path of `unsafe` inside root. Components that do not exist are joined as written;
 * a loop of symlinks is an error.
 */
export function resolveScoped(root: string, unsafe: string): ScopedPath {
  const walk = walkInRoot(components(unsafe), {
    followFinal: true,
    tooManyLinks: () => new BuildkitError("InvalidArgument", `resolving ${unsafe} in ${root}: too many levels of symbolic links`),
  });
  const { parts, escaped } = runWalkSync(walk, (candidate) => symlinkTarget(join(root, ...candidate)));
  return { path: join(root, ...parts), escaped };
}
