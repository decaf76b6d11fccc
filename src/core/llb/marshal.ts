import { pb } from "../pb/index.ts";
import { sha256, type Digest } from "../digest.ts";
import { Cap } from "./caps.ts";
import { marshalContext, mergeMetadata, type MarshalContext, type MarshalOptions, type OpMetadata } from "./constraints.ts";
import { toInput, type Output, type Vertex } from "./vertex.ts";
import { SourceMapCollector } from "./source-map.ts";

export interface MarshalledDefinition {
  /** pb.Definition bytes. */
  readonly bytes: Uint8Array;
  /** Digests of the ops in `def` order; the last is the terminal op. */
  readonly digests: readonly Digest[];
}

/**
 * Marshals the graph ending at `result` the way BuildKit's Go client does, so the bytes and
 * digests match: ops depth-first with inputs before dependents, each op once, then a
 * terminal op whose only field is the result's input; metadata and source locations keyed
 * by digest in sorted order. Source maps' files (SourceInfo) follow in the order first met;
 * one whose definition is not set is marshalled with these same options.
 */
export function marshalDefinition(result: Output | undefined, opts?: MarshalOptions): MarshalledDefinition {
  if (!result) return { bytes: pb.Definition.encode({}).finish(), digests: [] };
  const ctx = marshalContext(opts);
  const def: Uint8Array[] = [];
  const digests: Digest[] = [];
  const metadata = new Map<string, OpMetadata>();
  const visited = new Set<Vertex>();
  const sources = new SourceMapCollector();

  const visit = (v: Vertex): void => {
    if (visited.has(v)) return;
    for (const input of v.inputs()) visit(input.vertex);
    const m = v.marshal(ctx);
    visited.add(v);
    metadata.set(m.digest, mergeMetadata(metadata.get(m.digest), m.metadata));
    // Per vertex, not per digest: two vertices with one digest both add their locations (as Go).
    sources.add(m.digest, m.locations);
    if (digests.includes(m.digest)) return;
    def.push(m.bytes);
    digests.push(m.digest);
  };
  visit(result.vertex);

  const terminal = pb.Op.encode({ inputs: [toInput(result, ctx)] }).finish();
  const terminalDigest = sha256(terminal);
  def.push(terminal);
  digests.push(terminalDigest);
  metadata.set(terminalDigest, terminalMetadata(metadata.get(terminalDigest), [...metadata.values()]));

  const bytes = pb.Definition.encode({
    def,
    metadata: Object.fromEntries([...metadata.keys()].sort().map((d) => [d, pbMetadata(metadata.get(d)!)])),
    Source: sources.marshal((st, o) => marshalDefinition(st.output(), o).bytes, opts),
  }).finish();
  return { bytes, digests };
}

/** The terminal op records which metadata features the graph uses. */
function terminalMetadata(own: OpMetadata | undefined, all: readonly OpMetadata[]): OpMetadata {
  const caps: OpMetadata["caps"] = { [Cap.constraints]: true, [Cap.platform]: true };
  for (const m of all) {
    if (m.ignoreCache) caps[Cap.metaIgnoreCache] = true;
    if (m.description) caps[Cap.metaDescription] = true;
    if (m.exportCache !== undefined) caps[Cap.metaExportCache] = true;
  }
  return { ...own, caps };
}

function sortedEntries<T>(r: Readonly<Record<string, T>> | undefined): Record<string, T> | undefined {
  if (!r) return undefined;
  return Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]!]));
}

function pbMetadata(m: OpMetadata): pb.OpMetadata.$Properties {
  return {
    ignore_cache: m.ignoreCache,
    description: sortedEntries(m.description),
    export_cache: m.exportCache === undefined ? undefined : { Value: m.exportCache },
    caps: sortedEntries(m.caps as Record<string, boolean> | undefined),
    progress_group: m.progressGroup,
  };
}

export type { MarshalContext };
