// A warning's source as the wire has it: VertexWarning (control.proto) and WarnRequest
// (gateway.proto) carry pb.SourceInfo and pb.Range messages as bytes fields.
import type { SourceInfo, SourceRange } from "../../core/error-sources.ts";
import type { ProgressWarning } from "../../core/progress/events.ts";
import type { Digest } from "../../core/digest.ts";
import { pb } from "../../core/pb/index.ts";

/** The fields VertexWarning and WarnRequest share (vertex: `vertex` or `digest`). */
export interface WarningFields {
  level?: number | null;
  short?: Uint8Array | null;
  detail?: Uint8Array[] | null;
  url?: string | null;
  info?: Uint8Array | null;
  ranges?: Uint8Array[] | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function warningFields(w: ProgressWarning): WarningFields {
  return {
    level: w.level,
    short: encoder.encode(w.short),
    detail: w.detail.map((d) => encoder.encode(d)),
    ...(w.url ? { url: w.url } : {}),
    ...(w.source ? { info: encodeSourceInfo(w.source.info), ranges: w.source.ranges.map((r) => pb.Range.encode(r).finish()) } : {}),
  };
}

export function warningOfFields(vertex: string, f: WarningFields): ProgressWarning {
  const info = f.info && f.info.length > 0 ? decodeSourceInfo(f.info) : undefined;
  return {
    type: "warning",
    vertex: vertex as Digest,
    // BuildKit's bridge: level 0 means 1.
    level: f.level || 1,
    short: decoder.decode(f.short ?? new Uint8Array()),
    detail: (f.detail ?? []).map((d) => decoder.decode(d)),
    ...(f.url ? { url: f.url } : {}),
    ...(info ? { source: { info, ranges: (f.ranges ?? []).map(decodeRange) } } : {}),
  };
}

/** pb.SourceInfo with the definition's bytes kept as they are (field 3, embedded). */
function encodeSourceInfo(info: SourceInfo): Uint8Array {
  const head = pb.SourceInfo.encode({ filename: info.filename, data: info.data }).finish();
  if (!info.definition) return head;
  const def = info.definition;
  const len: number[] = [];
  for (let n = def.length; ; n >>>= 7) {
    if (n < 0x80) {
      len.push(n);
      break;
    }
    len.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([head, Uint8Array.of(0x1a, ...len), def]);
}

function decodeSourceInfo(bytes: Uint8Array): SourceInfo {
  const m = pb.SourceInfo.decode(bytes);
  return {
    filename: m.filename ?? "",
    data: m.data ?? new Uint8Array(),
    ...(m.definition ? { definition: pb.Definition.encode(m.definition).finish() } : {}),
  };
}

function decodeRange(bytes: Uint8Array): SourceRange {
  const r = pb.Range.decode(bytes);
  return {
    start: { line: r.start?.line ?? 0, character: r.start?.character ?? 0 },
    end: { line: r.end?.line ?? 0, character: r.end?.character ?? 0 },
  };
}
