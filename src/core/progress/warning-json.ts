/**
 * A warning event as JSON (trace files, `--progress=rawjson`): the source file's bytes and its
 * definition as base64, as Go's encoding/json writes []byte, so the record reads back exactly.
 */
import type { Digest } from "../digest.ts";
import type { SourceRange } from "../error-sources.ts";
import type { ProgressWarning } from "./events.ts";

export interface WarningJson {
  readonly type: "warning";
  readonly vertex: string;
  readonly level: number;
  readonly short: string;
  readonly detail: readonly string[];
  readonly url?: string;
  readonly source?: {
    readonly info: { readonly filename: string; readonly data: string; readonly definition?: string };
    readonly ranges: readonly SourceRange[];
  };
}

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64"));

export function warningToJson(w: ProgressWarning, redact: (t: string) => string = (t) => t): WarningJson {
  const s = w.source;
  return {
    type: "warning",
    vertex: w.vertex,
    level: w.level,
    short: redact(w.short),
    detail: w.detail.map(redact),
    ...(w.url === undefined ? {} : { url: w.url }),
    ...(s === undefined
      ? {}
      : { source: { info: { filename: s.info.filename, data: b64(s.info.data), ...(s.info.definition ? { definition: b64(s.info.definition) } : {}) }, ranges: s.ranges } }),
  };
}

export function warningFromJson(j: WarningJson): ProgressWarning {
  const s = j.source;
  return {
    type: "warning",
    vertex: j.vertex as Digest,
    level: j.level,
    short: j.short,
    detail: j.detail,
    ...(j.url === undefined ? {} : { url: j.url }),
    ...(s === undefined
      ? {}
      : { source: { info: { filename: s.info.filename, data: bytes(s.info.data), ...(s.info.definition ? { definition: bytes(s.info.definition) } : {}) }, ranges: s.ranges } }),
  };
}
