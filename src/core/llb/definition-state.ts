/**
 * An existing definition as a State to build on (BuildKit's llb.NewDefinitionOp): each of its
 * ops a vertex that marshals to the op's own bytes and metadata, so a graph built on it keeps
 * the definition's digests (and so its cache) and adds only its own ops.
 */
import type { Digest } from "../digest.ts";
import type { pb } from "../pb/index.ts";
import type { CapID } from "./caps.ts";
import type { OpMetadata } from "./constraints.ts";
import { loadDefinition, type LoadedDefinition, type OpOutput } from "./definition.ts";
import { State } from "./state.ts";
import type { MarshalledOp, Output, Vertex } from "./vertex.ts";

/** The definition's result as a State; scratch (no output) for an empty definition. */
export function definitionState(def: Uint8Array | LoadedDefinition): State {
  const loaded = def instanceof Uint8Array ? loadDefinition(def) : def;
  if (loaded.result === undefined) return new State();
  const vertices = new Map<Digest, Vertex>();
  const output = (o: OpOutput): Output => ({ vertex: vertexOf(o.digest), index: () => o.index });
  const vertexOf = (digest: Digest): Vertex => {
    let v = vertices.get(digest);
    if (v === undefined) {
      const op = loaded.ops.get(digest)!;
      const marshalled: MarshalledOp = { digest, bytes: op.bytes, metadata: opMetadata(op.metadata) };
      const inputs = op.inputs.map(output);
      v = { inputs: () => inputs, marshal: () => marshalled };
      vertices.set(digest, v);
    }
    return v;
  };
  return new State(output(loaded.result));
}

/** pb.OpMetadata as the marshaller's OpMetadata, so the definition's metadata goes along unchanged. */
function opMetadata(m: pb.OpMetadata | undefined): OpMetadata {
  if (!m) return {};
  const out: OpMetadata = {};
  if (m.ignore_cache) out.ignoreCache = true;
  if (m.description && Object.keys(m.description).length) out.description = { ...m.description };
  if (m.export_cache) out.exportCache = m.export_cache.Value ?? false;
  if (m.caps && Object.keys(m.caps).length) out.caps = { ...m.caps } as Partial<Record<CapID, boolean>>;
  if (m.progress_group) out.progressGroup = { id: m.progress_group.id ?? "", name: m.progress_group.name ?? "", ...(m.progress_group.weak ? { weak: true } : {}) };
  return out;
}
