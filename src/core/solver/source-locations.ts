/**
 * The failing step's place in the build's source files: when a solve fails in a vertex that the
 * definition's source map (pb.Definition.Source) locates, the error gets one SourcedError per
 * location, as BuildKit's bridge does (llbsolver resultProxy.wrapError). Loaded only when a solve
 * has failed: a build that succeeds never reads its source map.
 */
import { VertexTaggedError, withSource, type SourceRange } from "../error-sources.ts";
import { decodeMessage, fieldSpans } from "../pb/decode.ts";
import type { pb } from "../pb/index.ts";
import { OPS_SCHEMA } from "../pb/ops-schema.ts";

/** pb.Definition's Source field, pb.Source's infos, pb.SourceInfo's definition. */
const DEFINITION_SOURCE = 3;
const SOURCE_INFOS = 2;
const INFO_DEFINITION = 3;

/** err, wrapped with the source locations of its failing vertex when `definition` has any. */
export function withDefinitionSources(err: unknown, definition: Uint8Array): unknown {
  const vertex = failingVertex(err);
  if (vertex === undefined) return err;
  let located = err;
  try {
    const bytes = payload(definition, DEFINITION_SOURCE);
    if (bytes === undefined) return err;
    const source = decodeMessage<pb.Source>(OPS_SCHEMA, "Source", bytes);
    const locations = source.locations[vertex]?.locations ?? [];
    if (locations.length === 0) return err;
    const infoBytes = fieldSpans(bytes).filter((s) => s.field === SOURCE_INFOS).map((s) => bytes.subarray(s.start, s.end));
    for (const loc of locations) {
      const index = loc.sourceIndex ?? 0;
      const info = source.infos[index];
      if (!info) continue; // an index past the infos (BuildKit would panic): nothing to show
      const def = payload(lengthDelimited(infoBytes[index]), INFO_DEFINITION);
      located = withSource(located, {
        info: { filename: info.filename ?? "", data: info.data ?? new Uint8Array(), ...(def ? { definition: def } : {}) },
        ranges: (loc.ranges ?? []).map(toRange),
      });
    }
  } catch {
    return err; // an unreadable source map must not hide the build's own error
  }
  return located;
}

/** The vertex of the outermost vertex-tagged error along err's causes (Go's errors.As). */
function failingVertex(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 32; depth++, e = e.cause) {
    if (e instanceof VertexTaggedError) return e.vertex;
  }
  return undefined;
}

function toRange(r: pb.IRange): SourceRange {
  return {
    start: { line: r.start?.line ?? 0, character: r.start?.character ?? 0 },
    end: { line: r.end?.line ?? 0, character: r.end?.character ?? 0 },
  };
}

/** A field's bytes (its occurrences joined, as protobuf merges them); undefined when absent. */
function payload(message: Uint8Array | undefined, field: number): Uint8Array | undefined {
  if (message === undefined) return undefined;
  const parts = fieldSpans(message)
    .filter((s) => s.field === field)
    .map((s) => lengthDelimited(message.subarray(s.start, s.end)));
  if (parts.length === 0) return undefined;
  if (parts.length === 1) return parts[0];
  return Buffer.concat(parts);
}

/** A length-delimited field's value, from its bytes with tag and length. */
function lengthDelimited(field: Uint8Array | undefined): Uint8Array {
  if (field === undefined) return new Uint8Array();
  let at = 0;
  for (let varints = 0; varints < 2; varints++) {
    while (at < field.length && ((field[at] as number) & 0x80) !== 0) at++;
    at++;
  }
  return field.subarray(at);
}
