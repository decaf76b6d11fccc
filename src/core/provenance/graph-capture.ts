/**
 * What provenance records of a result's graph besides its pinned sources (which SourceCapture
 * holds): the local sources by name, the secrets and SSH sockets its steps use, whether any
 * step had network access, and whether materials are known to be incomplete (a build op), as
 * BuildKit v0.11's captureProvenance walks the result's ops.
 */
import type { Digest } from "../digest.ts";
import type { LoadedDefinition, LoadedOp } from "../llb/definition.ts";
import { compare } from "./capture.ts";

export interface UsedSecret {
  readonly id: string;
  readonly optional: boolean;
}

export interface GraphCapture {
  /** Local source names, sorted. */
  readonly locals: string[];
  /** Secrets by ID, sorted; optional only when every use is. */
  readonly secrets: UsedSecret[];
  /** SSH sockets by ID ("default" when unnamed), sorted; optional only when every use is. */
  readonly ssh: UsedSecret[];
  networkAccess: boolean;
  incompleteMaterials: boolean;
}

export const emptyGraphCapture = (): GraphCapture => ({ locals: [], secrets: [], ssh: [], networkAccess: false, incompleteMaterials: false });

const NET_NONE = 2;
const MOUNT_SECRET = 1;
const MOUNT_SSH = 2;

/** The ops reachable from the definition's result, added to `into` (several definitions merge into one capture). */
export function captureGraph(def: LoadedDefinition, into: GraphCapture = emptyGraphCapture()): GraphCapture {
  const seen = new Set<Digest>();
  const stack: Digest[] = def.result ? [def.result.digest] : [];
  for (let d = stack.pop(); d !== undefined; d = stack.pop()) {
    if (seen.has(d)) continue;
    seen.add(d);
    const op = def.ops.get(d);
    if (op === undefined) continue;
    addOp(op, into);
    for (const input of op.inputs) stack.push(input.digest);
  }
  return sortCapture(into);
}

function addOp(loaded: LoadedOp, c: GraphCapture): void {
  const { op } = loaded;
  if (op.source) {
    const id = op.source.identifier ?? "";
    const attrs = op.source.attrs ?? {};
    if (id.startsWith("local://")) addName(c.locals, id.slice("local://".length));
    if (id.startsWith("git://") || attrs["git.fullurl"] !== undefined) {
      for (const key of ["git.authtokensecret", "git.authheadersecret"]) if (attrs[key]) addSecret(c.secrets, { id: attrs[key], optional: true });
      if (attrs["git.mountsshsock"]) addSecret(c.ssh, { id: attrs["git.mountsshsock"], optional: true });
    }
  } else if (op.exec) {
    for (const m of op.exec.mounts ?? []) {
      if (m.mountType === MOUNT_SECRET) addSecret(c.secrets, { id: m.secretOpt?.ID ?? "", optional: m.secretOpt?.optional === true });
      if (m.mountType === MOUNT_SSH) addSecret(c.ssh, { id: m.SSHOpt?.ID || "default", optional: m.SSHOpt?.optional === true });
    }
    for (const se of op.exec.secretenv ?? []) addSecret(c.secrets, { id: se.ID ?? "", optional: se.optional === true });
    if ((op.exec.network ?? 0) !== NET_NONE) c.networkAccess = true;
  } else if (op.build) {
    c.incompleteMaterials = true; // BuildKit does not follow nested builds either
  }
}

function addName(list: string[], name: string): void {
  if (!list.includes(name)) list.push(name);
}

/** Capture.AddSecret / AddSSH: one entry per ID, required if any use requires it. */
function addSecret(list: UsedSecret[], s: UsedSecret): void {
  const i = list.findIndex((v) => v.id === s.id);
  if (i < 0) list.push(s);
  else if (!s.optional) list[i] = { id: s.id, optional: false };
}

function sortCapture(c: GraphCapture): GraphCapture {
  c.locals.sort(compare);
  c.secrets.sort((a, b) => compare(a.id, b.id));
  c.ssh.sort((a, b) => compare(a.id, b.id));
  return c;
}
