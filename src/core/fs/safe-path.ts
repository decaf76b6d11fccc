/**
 * Path resolution inside a root directory, the way a chroot sees it (continuity's
 * `fs.RootPath`, which BuildKit's file ops use): the path is cleaned first, so `..` never
 * climbs above the root; symlinks are followed component by component, an absolute target
 * being taken relative to the root; missing trailing components are kept as they are, so the
 * result can name a file to create. The returned host path is always inside the root.
 */
import { lstat, readlink } from "node:fs/promises";
import { posix } from "node:path";
import { BuildkitError } from "../errors.ts";
import { errnoCode } from "./fs-error.ts";
import { components, runWalk, walkInRoot } from "./root-walk.ts";

export { MAX_SYMLINKS } from "./root-walk.ts";

export interface ResolveOptions {
  /** Follow a symlink in the last component too (default true). */
  followFinal?: boolean;
}

/** `p` cleaned as an absolute path: "a/../../b/" → "/b". */
export function cleanAbs(p: string): string {
  return posix.normalize(`/${p}`).replace(/(.)\/+$/, "$1");
}

/** Host path of the root-relative components. */
function hostPath(root: string, parts: readonly string[]): string {
  return parts.length === 0 ? root : `${root}/${parts.join("/")}`;
}

/** Root normalised to an absolute path without a trailing slash. */
export function normalizeRoot(root: string): string {
  const resolved = posix.resolve(root);
  return resolved === "/" ? "" : resolved;
}

/** The link target if `host` is a symlink, undefined if it is anything else or missing. */
async function linkTarget(host: string): Promise<string | undefined> {
  try {
    const st = await lstat(host);
    return st.isSymbolicLink() ? await readlink(host) : undefined;
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
}

/**
 * Resolves `p` (relative to the root "/") inside `root` and returns the host path. Throws a
 * BuildkitError "too many levels of symbolic links" past MAX_SYMLINKS links.
 */
export async function resolveInRoot(root: string, p: string, opts: ResolveOptions = {}): Promise<string> {
  const base = normalizeRoot(root);
  const walk = walkInRoot(components(cleanAbs(p)), {
    followFinal: opts.followFinal ?? true,
    tooManyLinks: () => new BuildkitError("FailedPrecondition", "too many levels of symbolic links"),
  });
  const { parts } = await runWalk(walk, (candidate) => linkTarget(hostPath(base, candidate)));
  return hostPath(base, parts) || "/";
}

/** The root-relative form of a host path inside `root` ("/" for the root itself). */
export function rootRelative(root: string, host: string): string {
  const base = normalizeRoot(root);
  if (host === base || host === `${base}/`) return "/";
  return host.startsWith(`${base}/`) ? host.slice(base.length) : host;
}

/** True when `host` is `root` or below it. */
export function isInside(root: string, host: string): boolean {
  const base = normalizeRoot(root);
  return base === "" || host === base || host.startsWith(`${base}/`);
}
