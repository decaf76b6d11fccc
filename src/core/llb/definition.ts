/**
 * Loads a marshalled LLB Definition and checks that it describes a well-formed graph.
 * Pure: bytes in, a validated graph out, or a BuildkitError("InvalidArgument").
 * Decoded by pb/decode.ts (as protobufjs's generated code decodes, without loading it).
 */
import { decodeMessage } from "../pb/decode.ts";
import type { pb } from "../pb/index.ts";
import { OPS_SCHEMA } from "../pb/ops-schema.ts";
import { sha256 } from "../digest.ts";
import type { Digest } from "../digest.ts";
import { checkOp, int64, invalid, opName, outputCount } from "./definition-checks.ts";

export { int64 } from "./definition-checks.ts";

/** An op's type, or undefined for the terminal op. */
export type OpKind = NonNullable<pb.Op["op"]>;

/**
 * One op of a loaded definition. The solver reads the plain fields (kind, inputs, outputs,
 * ignoreCache); only op adapters read the decoded protobuf in `op`.
 */
export interface LoadedOp {
  readonly digest: Digest;
  readonly kind: OpKind | undefined;
  /** The outputs of other ops it consumes, in the op's input order. */
  readonly inputs: readonly OpOutput[];
  /** OpMetadata's ignore_cache: always run, never answer from the cache. */
  readonly ignoreCache: boolean;
  readonly op: pb.Op;
  /** The op's bytes exactly as they appear in `def`; its digest is their sha256. */
  readonly bytes: Uint8Array;
  readonly metadata: pb.OpMetadata | undefined;
  /** How many outputs the op produces (0 for the terminal op). */
  readonly outputs: number;
}

export interface OpOutput {
  readonly digest: Digest;
  readonly index: number;
}

export interface LoadedDefinition {
  /** Every distinct op, terminal included, in definition order. */
  readonly ops: ReadonlyMap<Digest, LoadedOp>;
  /** The last op, whose only field is inputs[0]; undefined for an empty definition. */
  readonly terminal: LoadedOp | undefined;
  /** The output the terminal op points at; undefined for an empty definition. */
  readonly result: OpOutput | undefined;
  /** All op digests, each after the ops it consumes. */
  readonly order: readonly Digest[];
}


function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function loadDefinition(bytes: Uint8Array): LoadedDefinition {
  let def: pb.Definition;
  try {
    def = decodeMessage<pb.Definition>(OPS_SCHEMA, "Definition", bytes);
  } catch (err) {
    throw invalid(`cannot decode: ${reason(err)}`);
  }
  const ops = decodeOps(def);
  const last = def.def.at(-1);
  const terminal = last === undefined ? undefined : ops.get(sha256(last));
  for (const op of ops.values()) checkOpType(op, op === terminal);
  for (const op of ops.values()) checkOp(op.op, op.digest);
  for (const op of ops.values()) checkInputs(op, ops);
  const order = topologicalOrder(new Map([...ops].map(([d, op]) => [d, op.op.inputs.map((i) => i.digest as Digest)])));
  return { ops, terminal, result: resultOf(terminal), order };
}

function decodeOps(def: pb.Definition): Map<Digest, LoadedOp> {
  const ops = new Map<Digest, LoadedOp>();
  const last = def.def.length - 1;
  def.def.forEach((bytes, n) => {
    const digest = sha256(bytes);
    if (ops.has(digest)) return; // the same op twice is harmless: keep the first
    let op: pb.Op;
    try {
      // Unknown fields kept: an op type we do not know is one.
      op = decodeMessage<pb.Op>(OPS_SCHEMA, "Op", bytes, { keepUnknown: true });
    } catch (err) {
      throw invalid(`op ${n}: cannot decode: ${reason(err)}`);
    }
    // Metadata keyed by anything but an op of this definition is ignored, as BuildKit does.
    const metadata = Object.hasOwn(def.metadata, digest) ? (def.metadata[digest] as pb.OpMetadata) : undefined;
    const outputs = n === last && op.op === undefined ? 0 : outputCount(op);
    const inputs = op.inputs.map((i) => ({ digest: (i.digest ?? "") as Digest, index: int64(i.index) }));
    ops.set(digest, { digest, kind: op.op ?? undefined, inputs, ignoreCache: metadata?.ignore_cache === true, op, bytes, metadata, outputs });
  });
  return ops;
}

function checkOpType(loaded: LoadedOp, isTerminal: boolean): void {
  const { op, digest } = loaded;
  // An op type we do not know decodes as no type plus unknown fields.
  const unknown = op.op === undefined && (!isTerminal || (op.$unknowns?.length ?? 0) > 0);
  if (unknown) throw invalid(`op ${digest.slice(0, 19)} has an unknown op type`);
  if (isTerminal && (op.op !== undefined || op.inputs.length !== 1)) {
    throw invalid(`${opName("terminal", digest)} must have exactly one input and no op type`);
  }
}

function nameOf(loaded: LoadedOp): string {
  return opName(loaded.op.op ?? "terminal", loaded.digest);
}

function checkInputs(loaded: LoadedOp, ops: ReadonlyMap<Digest, LoadedOp>): void {
  for (const input of loaded.op.inputs) {
    const digest = input.digest ?? "";
    const index = int64(input.index);
    const source = ops.get(digest as Digest);
    if (source === undefined) {
      throw invalid(`${nameOf(loaded)} refers to ${digest} which the definition does not define`);
    }
    if (!Number.isInteger(index) || index < 0 || index >= source.outputs) {
      throw invalid(`${nameOf(loaded)} uses output ${index} of ${digest.slice(0, 19)} which has ${source.outputs} outputs`);
    }
  }
}

function resultOf(terminal: LoadedOp | undefined): OpOutput | undefined {
  const input = terminal?.op.inputs[0];
  if (input === undefined) return undefined;
  return { digest: input.digest as Digest, index: int64(input.index) };
}

/**
 * Orders a graph given as op -> inputs so that inputs come first, keeping definition order
 * where the graph allows. Throws on a cycle. Iterative, so deep chains cannot overflow the stack.
 */
export function topologicalOrder(edges: ReadonlyMap<Digest, readonly Digest[]>): Digest[] {
  const order: Digest[] = [];
  const state = new Map<Digest, "open" | "done">();
  for (const root of edges.keys()) {
    if (state.has(root)) continue;
    const stack: { digest: Digest; next: number }[] = [{ digest: root, next: 0 }];
    state.set(root, "open");
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as { digest: Digest; next: number };
      const inputs = edges.get(frame.digest) ?? [];
      const input = inputs[frame.next++];
      if (input === undefined) {
        stack.pop();
        state.set(frame.digest, "done");
        order.push(frame.digest);
      } else if (state.get(input) === "open") {
        throw invalid(`cycle through ${input}`);
      } else if (!state.has(input) && edges.has(input)) {
        state.set(input, "open");
        stack.push({ digest: input, next: 0 });
      }
    }
  }
  return order;
}
