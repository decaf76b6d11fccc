import type { pb } from "../pb/index.ts";
import type { State } from "./state.ts";
import { Cap, type CapID } from "./caps.ts";
import { addCaps, mergeConstraints, type Constraints, type MarshalContext } from "./constraints.ts";
import { LLBError } from "./errors.ts";
import { constraintsOf, type OpOptions } from "./options.ts";
import { cleanPath, normalizePath } from "./path.ts";
import { MarshalCache, encodeOp, opBase, sameInput, simpleOutput, toInput, type MarshalledOp, type Output, type PbInput, type Vertex } from "./vertex.ts";
import { posix } from "node:path";

/** Owner of created files: ids or names (looked up in the target's /etc/passwd and /etc/group). */
export type ChownSpec = { user?: number | string; group?: number | string } | string;

export interface CreateOptions {
  owner?: ChownSpec;
  /** Fixed creation/modification time instead of the time of the build: a Date, or nanoseconds since the epoch. */
  createdTime?: Date | bigint;
}
export interface MkdirOptions extends CreateOptions {
  parents?: boolean;
}
export interface RmOptions {
  allowNotFound?: boolean;
  allowWildcard?: boolean;
}
export interface CopyOptions extends CreateOptions {
  followSymlinks?: boolean;
  /** When src is a directory, copy what is in it rather than the directory itself. */
  copyDirContentsOnly?: boolean;
  attemptUnpack?: boolean;
  createDestPath?: boolean;
  allowWildcard?: boolean;
  allowEmptyWildcard?: boolean;
  includePatterns?: readonly string[];
  excludePatterns?: readonly string[];
  alwaysReplaceExistingDestPaths?: boolean;
  /** Permission bits, or a chmod-style string such as "u+x". */
  mode?: number | string;
  requiredPaths?: readonly string[];
}

type ActionSpec =
  | { kind: "mkdir"; path: string; mode: number; opts: MkdirOptions }
  | { kind: "mkfile"; path: string; mode: number; data: Uint8Array; opts: CreateOptions }
  | { kind: "rm"; path: string; opts: RmOptions }
  | { kind: "copy"; from: State; src: string; dest: string; opts: CopyOptions }
  | { kind: "symlink"; oldpath: string; newpath: string; opts: CreateOptions };

/** An immutable chain of file actions; each one applies to the result of the one before. */
export class FileAction {
  readonly #prev: FileAction | undefined;
  readonly #spec: ActionSpec;

  constructor(spec: ActionSpec, prev?: FileAction) {
    this.#spec = spec;
    this.#prev = prev;
  }

  /** The actions from first to last. */
  chain(): ActionSpec[] {
    return [...(this.#prev?.chain() ?? []), this.#spec];
  }

  mkdir(path: string, mode: number, opts: MkdirOptions = {}): FileAction {
    return new FileAction({ kind: "mkdir", path, mode, opts }, this);
  }
  mkfile(path: string, mode: number, data: string | Uint8Array, opts: CreateOptions = {}): FileAction {
    return new FileAction({ kind: "mkfile", path, mode, data: toBytes(data), opts }, this);
  }
  rm(path: string, opts: RmOptions = {}): FileAction {
    return new FileAction({ kind: "rm", path, opts }, this);
  }
  copy(from: State, src: string, dest: string, opts: CopyOptions = {}): FileAction {
    return new FileAction({ kind: "copy", from, src, dest, opts }, this);
  }
  symlink(oldpath: string, newpath: string, opts: CreateOptions = {}): FileAction {
    return new FileAction({ kind: "symlink", oldpath, newpath, opts }, this);
  }
}

export const mkdir = (path: string, mode: number, opts: MkdirOptions = {}): FileAction => new FileAction({ kind: "mkdir", path, mode, opts });
export const mkfile = (path: string, mode: number, data: string | Uint8Array, opts: CreateOptions = {}): FileAction =>
  new FileAction({ kind: "mkfile", path, mode, data: toBytes(data), opts });
export const rm = (path: string, opts: RmOptions = {}): FileAction => new FileAction({ kind: "rm", path, opts });
export const copy = (from: State, src: string, dest: string, opts: CopyOptions = {}): FileAction =>
  new FileAction({ kind: "copy", from, src, dest, opts });
export const symlink = (oldpath: string, newpath: string, opts: CreateOptions = {}): FileAction =>
  new FileAction({ kind: "symlink", oldpath, newpath, opts });

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? new TextEncoder().encode(data) : data;
}

export function newFileOp(base: State, action: FileAction, opts?: OpOptions): Output {
  const actions = action.chain();
  for (const a of actions) {
    if (a.kind === "copy" && a.src === "") throw new LLBError("copy: source path is required");
    if ("path" in a && a.path === "") throw new LLBError(`${a.kind}: path is required`);
  }
  // Go's file op output has no platform: the state keeps the one it had.
  return simpleOutput(new FileOp(base, actions, constraintsOf(opts)));
}

/** A sequence of file actions producing one output (pb.FileOp). */
class FileOp implements Vertex {
  readonly #base: State;
  readonly #actions: readonly ActionSpec[];
  readonly #constraints: Constraints;
  readonly #cache = new MarshalCache();

  constructor(base: State, actions: readonly ActionSpec[], constraints: Constraints) {
    this.#base = base;
    this.#actions = actions;
    this.#constraints = constraints;
  }

  inputs(): readonly Output[] {
    const seen = new Set<Output>();
    const baseOut = this.#base.output();
    if (baseOut) seen.add(baseOut);
    for (const a of this.#actions) {
      const o = a.kind === "copy" ? a.from.output() : undefined;
      if (o) seen.add(o);
    }
    return [...seen];
  }

  marshal(ctx: MarshalContext): MarshalledOp {
    return this.#cache.get(ctx, () => this.#marshal(ctx));
  }

  #marshal(ctx: MarshalContext): MarshalledOp {
    const inputs: PbInput[] = [];
    const addInput = (o: Output | undefined): number => {
      if (!o) return -1;
      const inp = toInput(o, ctx);
      const i = inputs.findIndex((other) => sameInput(other, inp));
      return i >= 0 ? i : inputs.push(inp) - 1;
    };
    // Inputs are collected in action order; an action after the first reads the previous
    // action's result, numbered after all inputs, so those indexes are resolved afterwards.
    // Every action is bound to the base state (Go's FileAction.bind): owners given by name
    // are looked up in the base input, whichever action they are on.
    const planned = this.#actions.map((a) => ({
      a,
      base: addInput(this.#base.output()),
      secondary: a.kind === "copy" ? addInput(a.from.output()) : -1,
    }));
    const caps: CapID[] = [Cap.fileBase];
    const dir = this.#base.getDir();
    const actions: pb.FileAction.$Properties[] = planned.map(({ a, base, secondary }, i) => {
      const input = i === 0 ? base : inputs.length + i - 1;
      const fa: pb.FileAction.$Properties = { input, secondaryInput: secondary, output: i === planned.length - 1 ? 0 : -1 };
      caps.push(...actionCaps(a));
      return Object.assign(fa, protoAction(a, dir, base));
    });
    let own = addCaps(this.#constraints, ...caps);
    const platform = this.#base.getPlatform();
    if (!own.platform && platform) own = mergeConstraints(own, { platform });
    const { op, ...base } = opBase(ctx, own);
    return encodeOp({ inputs, file: { actions }, ...op }, base);
  }
}

/**
 * The caps a file action records. BuildKit v0.11.6's client records none for the features it
 * has (rm wildcards, copy include/exclude patterns): its FileOp.Marshal asks the actions for
 * caps before it has collected them. Only features newer than v0.11 record theirs.
 */
function actionCaps(a: ActionSpec): CapID[] {
  switch (a.kind) {
    case "rm":
      return [];
    case "copy": {
      const caps: CapID[] = [];
      if (a.opts.alwaysReplaceExistingDestPaths) caps.push(Cap.fileCopyAlwaysReplaceExistingDestPaths);
      if (typeof a.opts.mode === "string") caps.push(Cap.fileCopyModeStringFormat);
      return caps;
    }
    case "symlink":
      return [Cap.fileSymlinkCreate];
    case "mkdir":
    case "mkfile":
      return [];
    default:
      return unreachable(a);
  }
}

type ProtoAction = Pick<pb.FileAction.$Properties, "copy" | "mkfile" | "mkdir" | "rm" | "symlink">;

function protoAction(a: ActionSpec, dir: string, base: number): ProtoAction {
  switch (a.kind) {
    case "mkdir":
      return {
        mkdir: { path: normalizePath(dir, a.path, false), mode: a.mode & 0o777, makeParents: a.opts.parents, owner: chown(a.opts.owner, base), timestamp: time(a.opts.createdTime) },
      };
    case "mkfile":
      return {
        mkfile: { path: normalizePath(dir, a.path, false), mode: a.mode & 0o777, data: a.data, owner: chown(a.opts.owner, base), timestamp: time(a.opts.createdTime) },
      };
    case "rm":
      return { rm: { path: normalizePath(dir, a.path, false), allowNotFound: a.opts.allowNotFound, allowWildcard: a.opts.allowWildcard } };
    case "symlink":
      return { symlink: { oldpath: a.oldpath, newpath: normalizePath(dir, a.newpath, false), owner: chown(a.opts.owner, base), timestamp: time(a.opts.createdTime) } };
    case "copy":
      return { copy: protoCopy(a, dir, base) };
    default:
      return unreachable(a);
  }
}

function protoCopy(a: Extract<ActionSpec, { kind: "copy" }>, dir: string, base: number): pb.FileActionCopy.$Properties {
  const o = a.opts;
  let src = cleanPath(a.src);
  if (!posix.isAbsolute(src)) src = posix.join("/", a.from.getDir(), src);
  return {
    src,
    dest: normalizePath(dir, a.dest, true),
    owner: chown(o.owner, base),
    mode: typeof o.mode === "number" ? o.mode : -1,
    followSymlink: o.followSymlinks,
    dirCopyContents: o.copyDirContentsOnly,
    attemptUnpackDockerCompatibility: o.attemptUnpack,
    createDestPath: o.createDestPath,
    allowWildcard: o.allowWildcard,
    allowEmptyWildcard: o.allowEmptyWildcard,
    timestamp: time(o.createdTime),
    include_patterns: o.includePatterns ? [...o.includePatterns] : undefined,
    exclude_patterns: o.excludePatterns ? [...o.excludePatterns] : undefined,
    alwaysReplaceExistingDestPaths: o.alwaysReplaceExistingDestPaths,
    modeStr: typeof o.mode === "string" ? o.mode : undefined,
    required_paths: o.requiredPaths ? [...o.requiredPaths] : undefined,
  };
}

function chown(spec: ChownSpec | undefined, base: number): pb.ChownOpt.$Properties | undefined {
  if (spec === undefined) return undefined;
  let { user, group } = typeof spec === "string" ? splitUserGroup(spec) : spec;
  if (user === undefined && group === undefined) return undefined;
  const opt = (v: number | string | undefined): pb.UserOpt.$Properties | undefined =>
    v === undefined ? undefined : typeof v === "number" ? { byID: v } : { byName: { name: v, input: base } };
  return { user: opt(user), group: opt(group) };
}

/**
 * "user[:group]" where each part is a name or a numeric id, read as Go's llb.WithUser reads it:
 * "root" is id 0; an id is what strconv.ParseInt(v, 10, 32) accepts (a sign allowed, within
 * int32, marshalled as its uint32 bits); anything else is a name, and an empty name is id 0
 * (Go keeps it as an empty name, marshalled by id).
 */
function splitUserGroup(s: string): { user?: number | string; group?: number | string } {
  const colon = s.indexOf(":");
  const [u, g] = colon < 0 ? [s, undefined] : [s.slice(0, colon), s.slice(colon + 1)];
  const part = (v: string | undefined) => (v === undefined ? undefined : v === "" || v === "root" ? 0 : (goInt32(v) ?? v));
  return { user: part(u), group: part(g) };
}

function goInt32(v: string): number | undefined {
  if (!/^[+-]?\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n >= -0x80000000 && n <= 0x7fffffff ? n >>> 0 : undefined;
}

/** Nanoseconds since the epoch as an int64 the encoder takes exactly (a double would round). */
function time(t: Date | bigint | undefined): number {
  if (t === undefined) return -1;
  const ns = typeof t === "bigint" ? t : BigInt(t.getTime()) * 1_000_000n;
  const bits = BigInt.asUintN(64, ns);
  // protobufjs accepts a Long-like {low, high} for 64-bit fields.
  return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned: false } as unknown as number;
}

function unreachable(x: never): never {
  throw new Error(`unexpected file action ${JSON.stringify(x)}`);
}
