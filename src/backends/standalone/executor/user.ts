// Resolving a process's user string ("", "name", "uid", "uid:gid", "name:group") to ids, the way
// BuildKit does (runc's user.GetExecUser): names are looked up in the rootfs's /etc/passwd and
// /etc/group; numbers work without those files; supplementary groups come from /etc/group when
// the user was given by name or found in passwd and no group was given.
import { readFileSync } from "node:fs";
import { BuildkitError } from "../../../core/errors.ts";
import { parseGroup, parseId, parsePasswd } from "../../../core/fs/passwd.ts";
import { resolveScoped } from "./scoped-path.ts";

export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: readonly number[];
}

/** The text of a file inside rootfs, or "" when it cannot be read. */
function readInRoot(rootfs: string, path: string): string {
  try {
    return readFileSync(resolveScoped(rootfs, path).path, "utf8");
  } catch {
    return "";
  }
}

const readPasswd = (rootfs: string) => parsePasswd(readInRoot(rootfs, "/etc/passwd"));
const readGroup = (rootfs: string) => parseGroup(readInRoot(rootfs, "/etc/group"));

function notFound(user: string, what: string): BuildkitError {
  return new BuildkitError("NotFound", `resolving user ${JSON.stringify(user)}: ${what}`);
}

function resolveUserPart(rootfs: string, user: string, part: string): { uid: number; gid: number; name?: string } {
  const numeric = parseId(part);
  const entry = readPasswd(rootfs).find((e) => (numeric === undefined ? e.name === part : e.uid === numeric));
  if (entry) return { uid: entry.uid, gid: entry.gid, name: entry.name };
  if (numeric !== undefined) return { uid: numeric, gid: 0 };
  throw notFound(user, `no user ${part} in /etc/passwd`);
}

function resolveGroupPart(rootfs: string, user: string, part: string): number {
  const numeric = parseId(part);
  if (numeric !== undefined) return numeric;
  const entry = readGroup(rootfs).find((g) => g.name === part);
  if (!entry) throw notFound(user, `no group ${part} in /etc/group`);
  return entry.gid;
}

/** Resolves user against rootfs (a host directory holding the container's root). */
export function resolveUser(rootfs: string, user: string): ResolvedUser {
  if (user === "") return { uid: 0, gid: 0, additionalGids: [] };
  const colon = user.indexOf(":");
  const userPart = colon < 0 ? user : user.slice(0, colon);
  const groupPart = colon < 0 ? undefined : user.slice(colon + 1);
  if (userPart === "" || groupPart === "") throw new BuildkitError("InvalidArgument", `resolving user ${JSON.stringify(user)}: empty user or group`);
  // BuildKit's fast path: "uid:gid" in numbers needs no files.
  const uidFast = parseId(userPart);
  const gidFast = groupPart === undefined ? undefined : parseId(groupPart);
  if (uidFast !== undefined && gidFast !== undefined) return { uid: uidFast, gid: gidFast, additionalGids: [] };
  const resolved = resolveUserPart(rootfs, user, userPart);
  if (groupPart !== undefined) return { uid: resolved.uid, gid: resolveGroupPart(rootfs, user, groupPart), additionalGids: [] };
  const name = resolved.name;
  const additionalGids = name === undefined ? [] : readGroup(rootfs).filter((g) => g.members.includes(name)).map((g) => g.gid);
  return { uid: resolved.uid, gid: resolved.gid, additionalGids };
}
