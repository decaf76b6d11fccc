import { loadDefinition, type LoadedOp } from "../../../src/core/llb/definition.ts";
import { LINUX_AMD64, type MarshalOptions, type State } from "../../../src/core/llb/index.ts";
import type { pb } from "../../../src/core/pb/index.ts";

export const OPTS: MarshalOptions = { platform: LINUX_AMD64, localUniqueId: "test" };

/** Marshals a state and returns its ops (terminal excluded) in definition order. */
export function opsOf(s: State, opts: MarshalOptions = OPTS): LoadedOp[] {
  const def = loadDefinition(s.marshal(opts));
  return def.order.map((d) => def.ops.get(d)!).filter((o) => o !== def.terminal);
}

/** The last real op: the one the result points at. */
export function lastOp(s: State, opts?: MarshalOptions): pb.Op {
  const ops = opsOf(s, opts);
  return ops[ops.length - 1]!.op;
}

export function metadataOf(s: State, opts?: MarshalOptions): pb.OpMetadata | undefined {
  const ops = opsOf(s, opts);
  return ops[ops.length - 1]!.metadata;
}
