/**
 * Per-op checks of a loaded definition: every index an op holds (mount, action, merge and diff
 * inputs; exec and file outputs) is in range and every output is produced once, enum values are
 * known, and no path carries a NUL byte. Run at load, so that the ops can trust these values:
 * an index of 2147483647 must never reach code that allocates or iterates by it.
 */
import type { Digest } from "../digest.ts";
import { invalidArgument, type BuildkitError } from "../errors.ts";
import type { pb } from "../pb/index.ts";
import { OPS_ENUMS } from "../pb/ops-schema.ts";

/** An int64 field of a decoded message; proto3 leaves unset fields out, and they read as 0. */
export function int64(value: number | null | undefined): number {
  return value ?? 0;
}

export function invalid(message: string): BuildkitError {
  return invalidArgument(`invalid definition: ${message}`);
}

/** How an op is named in errors: its kind and a digest prefix, as `docker` shortens ids. */
export function opName(kind: string, digest: Digest): string {
  return `${kind} op ${digest.slice(0, 19)}`;
}

const { MountType, NetMode, SecurityMode } = OPS_ENUMS;
const BIND = MountType.BIND;
const CACHE = MountType.CACHE;
const KNOWN_MOUNT_TYPES: ReadonlySet<number> = new Set([BIND, MountType.SECRET, MountType.SSH, CACHE, MountType.TMPFS]);
const KNOWN_NETWORK: ReadonlySet<number> = new Set([NetMode.UNSET, NetMode.HOST, NetMode.NONE]);
const KNOWN_SECURITY: ReadonlySet<number> = new Set([SecurityMode.SANDBOX, SecurityMode.INSECURE]);

/** A bind mount that yields a result: writable with an output index (as BuildKit's client sets them). */
export function isOutputMount(m: pb.Mount.$Properties): boolean {
  return (m.mountType ?? BIND) === BIND && int64(m.output) >= 0 && !m.readonly;
}

/** Outputs per op type (see BuildKit's solver/llbsolver/ops); valid once checkOp passed. */
export function outputCount(op: pb.Op): number {
  switch (op.op) {
    case "exec":
      return (op.exec?.mounts ?? []).filter(isOutputMount).length;
    case "file":
      return (op.file?.actions ?? []).filter((a) => int64(a.output) >= 0).length;
    case "source":
    case "merge":
    case "diff":
    case "build":
      return 1;
    default:
      return 0;
  }
}

/** Checks the op-internal indexes, enums and paths of one op with `inputs` inputs. */
export function checkOp(op: pb.Op, digest: Digest): void {
  const inputs = op.inputs.length;
  if (op.exec) checkExec(op.exec, opName("exec", digest), inputs);
  if (op.file) checkFile(op.file, opName("file", digest), inputs);
  if (op.source) checkSource(op.source, opName("source", digest));
  if (op.merge) {
    const name = opName("merge", digest);
    (op.merge.inputs ?? []).forEach((m, i) => checkRange(int64(m.input), 0, inputs - 1, `${name} input ${i} index`));
  }
  if (op.diff) {
    const name = opName("diff", digest);
    if (op.diff.lower) checkRange(int64(op.diff.lower.input), -1, inputs - 1, `${name} lower input`);
    if (op.diff.upper) checkRange(int64(op.diff.upper.input), -1, inputs - 1, `${name} upper input`);
  }
}

function checkExec(exec: pb.ExecOp.$Properties, name: string, inputs: number): void {
  const meta = exec.meta ?? {};
  if ((meta.args ?? []).length === 0) throw invalid(`${name} has no args`);
  // Unknown enum values decode as plain numbers; running them would guess at their meaning.
  if (!KNOWN_NETWORK.has(exec.network ?? 0)) throw invalid(`${name} has an unknown network mode ${exec.network}`);
  if (!KNOWN_SECURITY.has(exec.security ?? 0)) throw invalid(`${name} has an unknown security mode ${exec.security}`);
  checkNoNul(meta.cwd, `${name} cwd`);
  (meta.args ?? []).forEach((a, i) => checkNoNul(a, `${name} arg ${i}`));
  (meta.env ?? []).forEach((e, i) => checkNoNul(e, `${name} env ${i}`));
  const mounts = exec.mounts ?? [];
  const outputs = mounts.filter(isOutputMount).length;
  const producer = new Map<number, number>();
  mounts.forEach((m, i) => {
    const what = `${name} mount ${i}`;
    const type = m.mountType ?? BIND;
    if (!KNOWN_MOUNT_TYPES.has(type)) throw invalid(`${what} has an unknown mount type ${type}`);
    checkNoNul(m.dest, `${what} dest`);
    checkNoNul(m.selector, `${what} selector`);
    // Secret, ssh and tmpfs mounts take no input (older clients leave the field unset, i.e. 0).
    if (type === BIND || type === CACHE) checkRange(int64(m.input), -1, inputs - 1, `${what} input`);
    if (type === BIND && !m.readonly) checkRange(int64(m.output), -1, outputs - 1, `${what} output`);
    if (isOutputMount(m)) checkUnique(producer, int64(m.output), i, `${what} output`, "mount");
  });
}

function checkFile(file: pb.FileOp.$Properties, name: string, inputs: number): void {
  const actions = file.actions ?? [];
  const outputs = actions.filter((a) => int64(a.output) >= 0).length;
  if (outputs === 0) throw invalid(`${name} has no outputs`);
  const producer = new Map<number, number>();
  // Indexes at or past the op's input count name the results of earlier actions.
  actions.forEach((a, i) => {
    const what = `${name} action ${i}`;
    checkRange(int64(a.input), -1, inputs + i - 1, `${what} input`);
    checkRange(int64(a.secondaryInput), -1, inputs + i - 1, `${what} secondaryInput`);
    checkRange(int64(a.output), -1, outputs - 1, `${what} output`);
    if (int64(a.output) >= 0) checkUnique(producer, int64(a.output), i, `${what} output`, "action");
    for (const [field, path] of actionPaths(a)) checkNoNul(path, `${what} ${field}`);
  });
}

function actionPaths(a: pb.FileAction.$Properties): [string, string | null | undefined][] {
  if (a.copy) {
    const c = a.copy;
    const patterns = [...(c.include_patterns ?? []), ...(c.exclude_patterns ?? []), ...(c.required_paths ?? [])];
    return [["copy src", c.src], ["copy dest", c.dest], ...patterns.map((p): [string, string] => ["copy pattern", p])];
  }
  if (a.mkfile) return [["mkfile path", a.mkfile.path]];
  if (a.mkdir) return [["mkdir path", a.mkdir.path]];
  if (a.rm) return [["rm path", a.rm.path]];
  if (a.symlink) return [["symlink oldpath", a.symlink.oldpath], ["symlink newpath", a.symlink.newpath]];
  return [];
}

function checkSource(source: pb.SourceOp.$Properties, name: string): void {
  checkNoNul(source.identifier, `${name} identifier`);
  for (const [k, v] of Object.entries(source.attrs ?? {})) checkNoNul(v, `${name} attribute ${k}`);
}

function checkNoNul(value: string | null | undefined, what: string): void {
  if (value?.includes("\0")) throw invalid(`${what} contains a NUL byte`);
}

function checkUnique(seen: Map<number, number>, output: number, index: number, what: string, unit: string): void {
  const first = seen.get(output);
  if (first !== undefined) throw invalid(`${what} ${output} is also the output of ${unit} ${first}`);
  seen.set(output, index);
}

export function checkRange(value: number, low: number, high: number, what: string): void {
  if (!Number.isInteger(value) || value < low || value > high) {
    throw invalid(`${what} ${value} is out of range [${low}, ${high}]`);
  }
}
