/**
 * pb.Definition, pb.Source and pb.Range as Go's encoding/json writes BuildKit v0.11.6's gogo
 * structs (solver/pb/ops.pb.go json tags): what an errdefs.Source+json detail holds.
 */
import { decodeMessage } from "../../core/pb/decode.ts";
import type { pb } from "../../core/pb/index.ts";
import { OPS_SCHEMA } from "../../core/pb/ops-schema.ts";
import type { SourceInfo, SourceRange } from "../../core/error-sources.ts";
import { goBytes, goMap, goObject, nonZero, type GoJson } from "./go-json.ts";

/** A marshalled pb.Definition as Go's JSON value. */
export function definitionJson(bytes: Uint8Array): GoJson {
  return definition(decodeMessage<pb.Definition>(OPS_SCHEMA, "Definition", bytes));
}

/** pb.Range: start and end always written (no omitempty), their zero fields left out. */
export function rangeJson(r: SourceRange): GoJson {
  return goObject([
    ["start", position(r.start)],
    ["end", position(r.end)],
  ]);
}

function definition(d: pb.IDefinition): GoJson {
  const metadata = Object.entries(d.metadata ?? {});
  return goObject([
    ["def", (d.def ?? []).length > 0 ? (d.def ?? []).map((op) => goBytes(op) ?? "") : undefined],
    // map without omitempty: null when it has no entries (as gogo leaves it after unmarshalling)
    ["metadata", metadata.length > 0 ? goMap(metadata.map(([k, m]) => [k, opMetadata(m)])) : null],
    ["Source", d.Source ? source(d.Source) : undefined],
  ]);
}

function opMetadata(m: pb.IOpMetadata): GoJson {
  const description = Object.entries(m.description ?? {});
  const caps = Object.entries(m.caps ?? {});
  return goObject([
    ["ignore_cache", nonZero(m.ignore_cache)],
    ["description", description.length > 0 ? goMap(description) : undefined],
    ["export_cache", m.export_cache ? goObject([["Value", nonZero(m.export_cache.Value)]]) : undefined],
    ["caps", caps.length > 0 ? goMap(caps.map(([k, v]) => [k, v === true])) : null],
    ["progress_group", m.progress_group ? goObject([["id", nonZero(m.progress_group.id)], ["name", nonZero(m.progress_group.name)], ["weak", nonZero(m.progress_group.weak)]]) : undefined],
  ]);
}

function source(s: pb.ISource): GoJson {
  const locations = Object.entries(s.locations ?? {});
  const infos = s.infos ?? [];
  return goObject([
    ["locations", locations.length > 0 ? goMap(locations.map(([k, l]) => [k, goObject([["locations", nonEmpty((l.locations ?? []).map(location))]])])) : undefined],
    ["infos", nonEmpty(infos.map(sourceInfo))],
  ]);
}

function location(l: pb.ILocation): GoJson {
  return goObject([
    ["sourceIndex", nonZero(l.sourceIndex)],
    ["ranges", nonEmpty((l.ranges ?? []).map((r) => rangeJson({ start: pbPosition(r.start), end: pbPosition(r.end) })))],
  ]);
}

/** errdefs.Source's info: its `definition` is the marshalled Definition, as Go's JSON, when it has one. */
export function sourceInfoJson(info: SourceInfo): GoJson {
  return infoFields(info.filename, info.data, info.definition ? definitionJson(info.definition) : undefined);
}

function sourceInfo(i: pb.ISourceInfo): GoJson {
  return infoFields(i.filename, i.data, i.definition ? definition(i.definition) : undefined);
}

function infoFields(filename: string | null | undefined, data: Uint8Array | null | undefined, def: GoJson | undefined): GoJson {
  return goObject([
    ["filename", nonZero(filename)],
    ["data", goBytes(data)],
    ["definition", def],
  ]);
}

function position(p: { line: number; character: number }): GoJson {
  return goObject([
    ["line", nonZero(p.line)],
    ["character", nonZero(p.character)],
  ]);
}

function pbPosition(p: pb.IPosition | null | undefined): { line: number; character: number } {
  return { line: p?.line ?? 0, character: p?.character ?? 0 };
}

function nonEmpty(list: GoJson[]): GoJson[] | undefined {
  return list.length > 0 ? list : undefined;
}
