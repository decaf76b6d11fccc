import { readdirSync, readFileSync } from "node:fs";
import { loadDefinition, type LoadedOp } from "../../../src/core/llb/definition.ts";
import { LINUX_AMD64, type MarshalOptions, type State } from "../../../src/core/llb/index.ts";
import type { pb } from "../../../src/core/pb/index.ts";
import { VECTORS_DIR } from "../../paths.ts";

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

/** The shared LLB vectors' names (each has NAME.pb and NAME.json), sorted. */
export function vectorNames(): string[] {
  return readdirSync(VECTORS_DIR).filter((f) => f.endsWith(".pb")).map((f) => f.slice(0, -3)).sort();
}

export interface VectorJSON {
  metadata: Record<string, unknown>;
  ops: { digest: string; op: unknown }[];
}

/** One vector: the definition's bytes and Go's JSON dump of it. */
export function vector(name: string): { bytes: Uint8Array; json: VectorJSON } {
  return {
    bytes: new Uint8Array(readFileSync(`${VECTORS_DIR}/${name}.pb`)),
    json: JSON.parse(readFileSync(`${VECTORS_DIR}/${name}.json`, "utf8")) as VectorJSON,
  };
}
