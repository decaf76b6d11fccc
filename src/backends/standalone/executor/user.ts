// Resolving a process's user string ("", "name", "uid", "uid:gid", "name:group") to ids, the way
// BuildKit does (runc's user.GetExecUser): names are looked up in the rootfs's /etc/passwd and
// /etc/group; numbers work without those files; supplementary groups come from /etc/group when
// the user was given by name or found in passwd and no group was given.
import { readFileSync } from "node:fs";
import { BuildkitError } from "../../../core/errors.ts";
import { resolveScoped } from "./scoped-path.ts";

export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: readonly number[];
}

interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

const MAX_ID = 2 ** 32 - 2;

/** A decimal id in range, or undefined. */
function parseId(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_ID ? n : undefined;
}

/** The lines of a file inside rootfs split on ":", or [] when it does not exist. */
function readColonFile(rootfs: string, path: string): string[][] {
  let text: string;
  try {
    text = readFileSync(resolveScoped(rootfs, path).path, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => line.split(":"));
}

function readPasswd(rootfs: string): PasswdEntry[] {
  return readColonFile(rootfs, "/etc/passwd").flatMap(([name = "", , uid = "", gid = ""]) => {
    const u = parseId(uid);
    const g = parseId(gid);
    return name !== "" && u !== undefined && g !== undefined ? [{ name, uid: u, gid: g }] : [];
  });
}

function readGroup(rootfs: string): GroupEntry[] {
  return readColonFile(rootfs, "/etc/group").flatMap(([name = "", , gid = "", members = ""]) => {
    const g = parseId(gid);
    return name !== "" && g !== undefined ? [{ name, gid: g, members: members.split(",").filter((m) => m !== "") }] : [];
  });
}

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
