// The process's working directory, made before the container starts when the rootfs lacks it,
// as BuildKit's runc executor does (idtools.MkdirAllAndChown(cwd, 0755, user)): every missing
// component is made 0755 and given to the process's user, so a non-root process can write in
// a working directory that a Dockerfile's WORKDIR named but never created. runc would make it
// too, but owned by root.
import { chmodSync, chownSync, mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { BuildkitError } from "../../../core/errors.ts";
import type { ResolvedUser } from "./user.ts";
import { resolveScoped } from "./scoped-path.ts";

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Makes cwd (a container path) inside rootfs when missing; returns the host directories made. */
export function makeWorkingDir(rootfs: string, cwd: string, user: Pick<ResolvedUser, "uid" | "gid">): string[] {
  const target = resolveScoped(rootfs, cwd).path;
  const missing: string[] = [];
  for (let p = target; p.startsWith(`${rootfs}/`) && !exists(p); p = dirname(p)) missing.unshift(p);
  try {
    for (const dir of missing) {
      mkdirSync(dir);
      chmodSync(dir, 0o755);
      chownSync(dir, user.uid, user.gid);
    }
  } catch (err) {
    throw new BuildkitError("Internal", `creating working directory ${cwd}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return missing;
}
