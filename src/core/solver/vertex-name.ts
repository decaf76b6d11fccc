/**
 * Vertex names as BuildKit shows them (solver/llbsolver/vertex.go, llbOpName): the
 * `llb.customname` description when the client set one, else one derived from the op.
 */
import type { Digest } from "../digest.ts";
import { int64 } from "../llb/definition.ts";
import type { LoadedDefinition, LoadedOp } from "../llb/definition.ts";
import type { pb } from "../pb/index.ts";

const CUSTOM_NAME = "llb.customname";
const INCLUDE_PATTERNS = "local.includepattern";

/** Names every op of a definition (terminal excluded), inputs named before their dependents. */
export function vertexNames(def: LoadedDefinition): Map<Digest, string> {
  const names = new Map<Digest, string>();
  const nameOf = (d: Digest): string => names.get(d) ?? "unknown";
  for (const digest of def.order) {
    const op = def.ops.get(digest);
    if (op === undefined || op === def.terminal) continue;
    names.set(digest, vertexName(op, nameOf));
  }
  return names;
}

/** One op's name; `nameOf` gives the names of its inputs (used by merge and diff). */
export function vertexName(op: LoadedOp, nameOf: (digest: Digest) => string): string {
  const custom = op.metadata?.description?.[CUSTOM_NAME];
  if (custom !== undefined && custom !== "") return custom;
  return opName(op.op, nameOf);
}

function opName(op: pb.Op, nameOf: (digest: Digest) => string): string {
  const inputName = (index: number): string => {
    const input = op.inputs[index];
    return input === undefined ? "scratch" : `(${nameOf(input.digest as Digest)})`;
  };
  switch (op.op) {
    case "source":
      return sourceName(op.source);
    case "exec":
      return (op.exec?.meta?.args ?? []).join(" ");
    case "file":
      return (op.file?.actions ?? []).map(actionName).join(", ");
    case "build":
      return "build";
    case "merge":
      return `merge (${op.inputs.map((i) => nameOf(i.digest as Digest)).join(", ")})`;
    case "diff":
      return `diff ${inputName(int64(op.diff?.lower?.input))} -> ${inputName(int64(op.diff?.upper?.input))}`;
    case undefined:
      return "unknown";
    default:
      return exhaustive(op.op);
  }
}

function sourceName(source: pb.SourceOp.$Properties | null | undefined): string {
  const identifier = source?.identifier ?? "";
  const patterns = source?.attrs?.[INCLUDE_PATTERNS];
  if (!identifier.startsWith("local://") || patterns === undefined) return identifier;
  const parsed = parsePatterns(patterns);
  return parsed?.length === 1 ? `${identifier} (${parsed[0]})` : identifier;
}

function parsePatterns(json: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) && value.every((p) => typeof p === "string") ? value : undefined;
  } catch {
    return undefined;
  }
}

function actionName(action: pb.FileAction.$Properties): string {
  if (action.mkdir) return `mkdir ${action.mkdir.path ?? ""}`;
  if (action.mkfile) return `mkfile ${action.mkfile.path ?? ""}`;
  if (action.symlink) return `symlink ${action.symlink.newpath ?? ""} -> ${action.symlink.oldpath ?? ""}`;
  if (action.rm) return `rm ${action.rm.path ?? ""}`;
  if (action.copy) return `copy ${action.copy.src ?? ""} ${action.copy.dest ?? ""}`;
  return "";
}

function exhaustive(value: never): never {
  throw new Error(`unexpected op type ${String(value)}`);
}
