/**
 * Ownership for file actions: a ChownOpt resolved to numeric ids (BuildKit's readUser),
 * user-namespace remapping (idtools.IdentityMapping) and the "chowner" BuildKit's copy
 * applies to each file it writes (mapUserToChowner).
 */
import { lchownSync } from "node:fs";
import { lchown, readFile } from "node:fs/promises";
import { BuildkitError } from "../errors.ts";
import type { pb } from "../pb/index.ts";
import { errnoCode } from "./fs-error.ts";
import { parseGroup, parseId, parsePasswd } from "./passwd.ts";
import { resolveInRoot } from "./safe-path.ts";

export interface Owner {
  uid: number;
  gid: number;
}

/** One contiguous range of container ids mapped to host ids. */
export interface IdMapEntry {
  containerId: number;
  hostId: number;
  size: number;
}

/** A user namespace's id maps; files are written with host ids. */
export interface IdentityMapping {
  uids: readonly IdMapEntry[];
  gids: readonly IdMapEntry[];
}

/** Gives the owner for a file given its current (source) owner, or undefined to leave it. */
export type Chowner = (old: Owner | undefined) => Owner | undefined;

function toHostId(id: number, ranges: readonly IdMapEntry[], kind: string): number {
  for (const r of ranges) {
    if (id >= r.containerId && id < r.containerId + r.size) return r.hostId + (id - r.containerId);
  }
  throw new BuildkitError("InvalidArgument", `${kind} ${id} is not mapped in the user namespace`);
}

/** Container ids → host ids. */
export function toHost(owner: Owner, idmap: IdentityMapping): Owner {
  return { uid: toHostId(owner.uid, idmap.uids, "uid"), gid: toHostId(owner.gid, idmap.gids, "gid") };
}

/**
 * The chowner for an action: an explicit owner (mapped to the host) for every file; without
 * one, copied files keep their source owner and created ones get the process's (root's)
 * owner, or the namespace root's when an idmap is given.
 */
export function chownerFor(owner: Owner | undefined, idmap?: IdentityMapping): Chowner {
  if (owner !== undefined) {
    const mapped = idmap === undefined ? owner : toHost(owner, idmap);
    return () => mapped;
  }
  const root = idmap === undefined ? undefined : toHost({ uid: 0, gid: 0 }, idmap);
  return (old) => old ?? root;
}

/** lchown(path) to what the chowner gives for `old`, if anything. */
export async function applyOwner(path: string, chowner: Chowner, old?: Owner): Promise<void> {
  const owner = chowner(old);
  if (owner !== undefined) await lchown(path, owner.uid, owner.gid);
}

/** {@link applyOwner} as one synchronous syscall. */
export function applyOwnerSync(path: string, chowner: Chowner, old?: Owner): void {
  const owner = chowner(old);
  if (owner !== undefined) lchownSync(path, owner.uid, owner.gid);
}

/** The text of `/etc/<name>` inside root; "" when the file is missing. */
async function readDatabase(root: string, name: "passwd" | "group"): Promise<string> {
  const path = await resolveInRoot(root, `/etc/${name}`);
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOENT" || code === "ENOTDIR") return "";
    throw err;
  }
}

async function lookupUser(root: string, name: string): Promise<Owner> {
  const entry = parsePasswd(await readDatabase(root, "passwd")).find((e) => e.name === name);
  if (entry) return { uid: entry.uid, gid: entry.gid };
  const numeric = parseId(name);
  if (numeric !== undefined) return { uid: numeric, gid: numeric };
  throw new BuildkitError("InvalidArgument", `unable to find user ${name}: no matching entries in passwd file`);
}

async function lookupGroup(root: string, name: string): Promise<number> {
  const entry = parseGroup(await readDatabase(root, "group")).find((e) => e.name === name);
  const gid = entry?.gid ?? parseId(name);
  if (gid !== undefined) return gid;
  throw new BuildkitError("InvalidArgument", `unable to find group ${name}: no matching entries in group file`);
}

/** Where a NamedUserOpt's input is mounted (the directory holding its /etc/passwd). */
export type UserRootResolver = (input: number) => string;

/**
 * Numeric ids for a ChownOpt, or undefined when there is none. A user by id sets uid and gid;
 * a group then overrides the gid. Names are looked up in the /etc/passwd and /etc/group of
 * the named input's directory; a name found in neither (and not numeric) is an error.
 */
export async function readOwner(opt: pb.ChownOpt.$Properties | null | undefined, userRoot: UserRootResolver): Promise<Owner | undefined> {
  if (opt === null || opt === undefined) return undefined;
  const owner: Owner = { uid: 0, gid: 0 };
  const user = opt.user;
  if (user?.byName) {
    Object.assign(owner, await lookupUser(userRoot(user.byName.input ?? 0), user.byName.name ?? ""));
  } else if (typeof user?.byID === "number") {
    owner.uid = owner.gid = user.byID;
  }
  const group = opt.group;
  if (group?.byName) owner.gid = await lookupGroup(userRoot(group.byName.input ?? 0), group.byName.name ?? "");
  else if (typeof group?.byID === "number") owner.gid = group.byID;
  return owner;
}
