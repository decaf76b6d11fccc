/**
 * Human-readable forms of a loaded Definition, after BuildKit's `buildctl debug dump-llb`:
 * one JSON object per op, or a Graphviz digraph.
 *
 * The JSON follows what BuildKit's Go types print with encoding/json: oneofs wrapped in a key
 * named after the Go field ("Op", "Action", "User"), enums and int64s as numbers, bytes in
 * base64, unset fields left out, except the input/output indexes which Go always prints.
 */
import { goJSON } from "../go-json.ts";
import { pb } from "../pb/index.ts";
import { int64 } from "./definition.ts";
import type { IConversionOptions } from "protobufjs";
import type { LoadedDefinition, LoadedOp } from "./definition.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const OPTIONS: IConversionOptions = { longs: Number, enums: Number, bytes: String, defaults: false, oneofs: false };

/** One JSON line per op, in definition order: `{"Op": …, "Digest": …, "OpMetadata": …}`. */
export function dumpJSON(def: LoadedDefinition): string[] {
  return [...def.ops.values()].map((op) => goJSON({ Op: opJSON(op.op), Digest: op.digest, OpMetadata: metadataJSON(op) }));
}

function metadataJSON(op: LoadedOp): Json {
  return op.metadata === undefined ? null : (pb.OpMetadata.toObject(op.metadata, OPTIONS) as JsonObject);
}

export function opJSON(op: pb.Op): JsonObject {
  const plain = pb.Op.toObject(op, OPTIONS) as JsonObject;
  const out: JsonObject = {};
  if (op.inputs.length > 0) out.inputs = op.inputs.map((i) => ({ digest: i.digest ?? "", index: int64(i.index) }));
  out.Op = op.op === undefined ? null : { [op.op]: kindJSON(op, plain) };
  if (plain.platform !== undefined) out.platform = plain.platform;
  if (plain.constraints !== undefined) out.constraints = plain.constraints;
  return out;
}

function kindJSON(op: pb.Op, plain: JsonObject): Json {
  const body = (plain[op.op ?? ""] ?? {}) as JsonObject;
  if (op.exec?.mounts?.length) {
    const mounts = body.mounts as JsonObject[];
    return { ...body, mounts: op.exec.mounts.map((m, i) => mountJSON(m, mounts[i] ?? {})) };
  }
  if (op.file?.actions?.length) {
    const actions = body.actions as JsonObject[];
    return { ...body, actions: op.file.actions.map((a, i) => actionJSON(a as pb.FileAction, actions[i] ?? {})) };
  }
  if (op.merge?.inputs?.length) return { inputs: op.merge.inputs.map((m) => ({ input: int64(m.input) })) };
  if (op.diff) {
    const out: JsonObject = {};
    if (op.diff.lower) out.lower = { input: int64(op.diff.lower.input) };
    if (op.diff.upper) out.upper = { input: int64(op.diff.upper.input) };
    return out;
  }
  return body;
}

function mountJSON(mount: pb.Mount.$Properties, plain: JsonObject): JsonObject {
  // Go prints a mount's input and output even when 0; keep the schema's field order.
  const { input: _input, selector, dest, output: _output, ...rest } = plain;
  return {
    input: int64(mount.input),
    ...(selector === undefined ? {} : { selector }),
    ...(dest === undefined ? {} : { dest }),
    output: int64(mount.output),
    ...rest,
  };
}

function actionJSON(action: pb.FileAction, plain: JsonObject): JsonObject {
  const kind = action.action;
  let body: Json = null;
  if (kind !== undefined) {
    const fields = (plain[kind] ?? {}) as JsonObject;
    const owner = (action[kind] as { owner?: pb.ChownOpt.$Properties | null } | null | undefined)?.owner;
    body = { [kind]: owner ? { ...fields, owner: chownJSON(owner) } : fields };
  }
  return { input: action.input, secondaryInput: action.secondaryInput, output: action.output, Action: body };
}

function chownJSON(owner: pb.ChownOpt.$Properties): JsonObject {
  const out: JsonObject = {};
  if (owner.user) out.user = userJSON(owner.user);
  if (owner.group) out.group = userJSON(owner.group);
  return out;
}

function userJSON(user: pb.UserOpt.$Properties): JsonObject {
  if (user.byName) return { User: { byName: { ...(user.byName.name ? { name: user.byName.name } : {}), input: int64(user.byName.input) } } };
  if (user.byID != null) return { User: user.byID === 0 ? {} : { byID: user.byID } };
  return { User: null };
}

/** A Graphviz digraph of the definition: one node per op (terminal included), edges from inputs. */
export function dumpDot(def: LoadedDefinition): string {
  const lines = ["digraph {"];
  for (const op of def.ops.values()) {
    const [label, shape] = describe(op);
    lines.push(`  ${quote(op.digest)} [label=${quote(label)} shape=${quote(shape)}];`);
  }
  for (const op of def.ops.values()) {
    op.op.inputs.forEach((input, i) => {
      lines.push(`  ${quote(input.digest ?? "")} -> ${quote(op.digest)} [label=${quote(edgeLabel(op.op, i, int64(input.index)))}];`);
    });
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

function quote(s: string): string {
  return JSON.stringify(s);
}

/** A short description and a node shape per op type (BuildKit's choices). */
function describe(loaded: LoadedOp): [string, string] {
  const { op } = loaded;
  if (op.source) return [op.source.identifier ?? "", "ellipse"];
  if (op.exec) return [(op.exec.meta?.args ?? []).join(" "), "box"];
  if (op.file) return [(op.file.actions ?? []).map(actionSummary).join(","), "note"];
  if (op.build) return ["build", "box3d"];
  if (op.merge) return ["merge", "invtriangle"];
  if (op.diff) return ["diff", "doublecircle"];
  return [loaded.digest, "plaintext"];
}

function actionSummary(action: pb.FileAction.$Properties): string {
  if (action.copy) return `copy{src=${action.copy.src ?? ""}, dest=${action.copy.dest ?? ""}}`;
  if (action.mkfile) return `mkfile{path=${action.mkfile.path ?? ""}}`;
  if (action.mkdir) return `mkdir{path=${action.mkdir.path ?? ""}}`;
  if (action.rm) return `rm{path=${action.rm.path ?? ""}}`;
  if (action.symlink) return `symlink{oldpath=${action.symlink.oldpath ?? ""}, newpath=${action.symlink.newpath ?? ""}}`;
  return "";
}

/** The mount point an exec input lands on (root left out), and the output index when not 0. */
function edgeLabel(op: pb.Op, inputIndex: number, outputIndex: number): string {
  const dests = (op.exec?.mounts ?? []).filter((m) => m.input === inputIndex && m.dest !== "/").map((m) => m.dest ?? "");
  const parts = dests.length > 0 ? [dests.at(-1) ?? ""] : [];
  if (outputIndex !== 0) parts.push(`output ${outputIndex}`);
  return parts.join(" ");
}
