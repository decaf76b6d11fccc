/**
 * The typed error details BuildKit puts in a gRPC status (util/grpcerrors): where in the build's
 * files a failure is (errdefs.Source) and which vertex failed (errdefs.Vertex), each a
 * google.protobuf.Any whose value is Go's JSON of the message. Sending, they are read off the
 * error's causes, outermost first (ToGRPC); receiving, each known one wraps the error in the
 * order it came (FromGRPC), and unknown ones stay on the status, passed on untouched.
 */
import { SourcedError, VertexTaggedError, type ErrorSource, type SourceRange } from "../../core/error-sources.ts";
import { BuildkitError } from "../../core/errors.ts";
import { rangeJson, sourceInfoJson } from "./definition-json.ts";
import { goObject, nonZero, writeGoJson } from "./go-json.ts";
import type { StatusDetail } from "./status.ts";

export const SOURCE_TYPE_URL = "github.com/moby/buildkit/errdefs.Source+json";
export const VERTEX_TYPE_URL = "github.com/moby/buildkit/errdefs.Vertex+json";

/**
 * A source read from a status detail; sent on, it is the same detail. Its info.definition is not
 * read back (nothing here uses it): the detail keeps it, as it came.
 */
export class ReceivedSourceError extends SourcedError {
  readonly detail: StatusDetail;

  constructor(err: unknown, source: ErrorSource, detail: StatusDetail) {
    super(err, source);
    this.detail = detail;
  }
}

/** A failed vertex read from a status detail; sent on, it is the same detail. */
export class ReceivedVertexError extends VertexTaggedError {
  readonly detail: StatusDetail;

  constructor(err: unknown, vertex: string, detail: StatusDetail) {
    const code = err instanceof BuildkitError ? err.code : "Internal";
    super(code, err instanceof Error ? err.message : String(err), vertex, { cause: err });
    this.detail = detail;
  }
}

/** errdefs.Source as Go's encoding/json writes it. */
export function sourceDetail(source: ErrorSource): StatusDetail {
  const json = goObject([
    ["info", sourceInfoJson(source.info)],
    ["ranges", source.ranges.length > 0 ? source.ranges.map(rangeJson) : undefined],
  ]);
  return { type_url: SOURCE_TYPE_URL, value: new TextEncoder().encode(writeGoJson(json)) };
}

/** errdefs.Vertex as Go's encoding/json writes it. */
export function vertexDetail(digest: string): StatusDetail {
  return { type_url: VERTEX_TYPE_URL, value: new TextEncoder().encode(writeGoJson(goObject([["digest", nonZero(digest)]]))) };
}

/** The typed details along err's causes, outermost first, down to a received status (which keeps its own). */
export function typedDetails(err: unknown, isStatus: (e: Error) => boolean): StatusDetail[] {
  const out: StatusDetail[] = [];
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 64 && !isStatus(e); depth++, e = e.cause) {
    if (e instanceof ReceivedSourceError || e instanceof ReceivedVertexError) out.push(e.detail);
    else if (e instanceof SourcedError) out.push(sourceDetail(e.source));
    else if (e instanceof VertexTaggedError) out.push(vertexDetail(e.vertex));
  }
  return out;
}

/** The details this side does not read, to keep on the status as they came. */
export function unknownDetails(details: readonly StatusDetail[]): StatusDetail[] {
  return details.filter((d) => d.type_url !== SOURCE_TYPE_URL && d.type_url !== VERTEX_TYPE_URL);
}

/** base wrapped by each known detail in the order they came (the first innermost), as Go's FromGRPC. */
export function wrapWithDetails(base: Error, details: readonly StatusDetail[]): Error {
  let err = base;
  for (const d of details) {
    if (d.type_url === SOURCE_TYPE_URL) {
      const source = parseSource(d.value);
      if (source) err = new ReceivedSourceError(err, source, d);
    } else if (d.type_url === VERTEX_TYPE_URL) {
      const digest = parseVertex(d.value);
      if (digest !== undefined) err = new ReceivedVertexError(err, digest, d);
    }
  }
  return err;
}

type JsonObject = Readonly<Record<string, unknown>>;

function parseJson(value: Uint8Array): JsonObject | undefined {
  try {
    const v: unknown = JSON.parse(new TextDecoder().decode(value));
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A field by name, matched as json.Unmarshal matches: exactly, else ignoring case. */
function field(o: JsonObject, name: string): unknown {
  if (Object.hasOwn(o, name)) return o[name];
  const key = Object.keys(o).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : o[key];
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function int(v: unknown): number {
  return typeof v === "number" && Number.isInteger(v) ? v : 0;
}

/** An errdefs.Source+json value; undefined when it is not one (the detail is then dropped, as typeurl fails). */
export function parseSource(value: Uint8Array): ErrorSource | undefined {
  const o = parseJson(value);
  if (!o) return undefined;
  const info = field(o, "info");
  const infoObj = isObject(info) ? info : {};
  const ranges = field(o, "ranges");
  return {
    info: { filename: str(field(infoObj, "filename")), data: new Uint8Array(Buffer.from(str(field(infoObj, "data")), "base64")) },
    ranges: Array.isArray(ranges) ? ranges.filter(isObject).map(parseRange) : [],
  };
}

function parseRange(r: JsonObject): SourceRange {
  const pos = (v: unknown) => (isObject(v) ? { line: int(field(v, "line")), character: int(field(v, "character")) } : { line: 0, character: 0 });
  return { start: pos(field(r, "start")), end: pos(field(r, "end")) };
}

/** An errdefs.Vertex+json value's digest. */
export function parseVertex(value: Uint8Array): string | undefined {
  const o = parseJson(value);
  return o ? str(field(o, "digest")) : undefined;
}
