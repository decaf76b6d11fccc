// Call metadata: the custom headers of a call, lower-cased, and gRPC's timeout header.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { GrpcError, Status } from "./status.ts";

/** Header name (lower case) → value(s). A header sent several times has several values. */
export type Metadata = Readonly<Record<string, string | readonly string[]>>;

/** Headers that belong to HTTP/2 or gRPC itself, never to an application's metadata. */
const RESERVED = new Set(["content-type", "te", "user-agent", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "grpc-status", "grpc-message", "grpc-status-details-bin"]);

/** An incoming header block's application metadata. */
export function metadataFromHeaders(headers: IncomingHttpHeaders): Metadata {
  const out: Record<string, string | readonly string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (key.startsWith(":") || RESERVED.has(key) || value === undefined) continue;
    out[key] = value;
  }
  return out;
}

/** Metadata as outgoing headers; names are lower-cased as HTTP/2 requires. */
export function metadataToHeaders(metadata: Metadata | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(metadata ?? {})) {
    const key = name.toLowerCase();
    if (key.startsWith(":") || RESERVED.has(key)) continue;
    out[key] = typeof value === "string" ? value : [...value];
  }
  return out;
}

/**
 * Every value of a metadata key. Some HTTP/2 stacks join a repeated header with ", ", so the
 * values are split again (the headers we read repeated, such as gRPC method paths, hold no commas).
 */
export function metadataValues(metadata: Metadata, name: string): string[] {
  const value = metadata[name.toLowerCase()];
  if (value === undefined) return [];
  const values = typeof value === "string" ? [value] : value;
  return values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
}

/** The first value of a metadata key. */
export function metadataValue(metadata: Metadata, name: string): string | undefined {
  return metadataValues(metadata, name)[0];
}

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** grpc-timeout ("<up to 8 digits><unit>") in milliseconds. */
export function parseGrpcTimeout(value: string): number {
  const m = /^(\d{1,8})([HMSmun])$/.exec(value);
  const unit = m?.[2] === undefined ? undefined : UNIT_MS[m[2]];
  if (m?.[1] === undefined || unit === undefined) throw new GrpcError(Status.INTERNAL, `reading grpc-timeout: malformed value ${JSON.stringify(value)}`);
  return Number(m[1]) * unit;
}

/** A timeout in milliseconds as a grpc-timeout value, rounded up to keep within 8 digits. */
export function formatGrpcTimeout(ms: number): string {
  const t = Math.max(0, Math.ceil(ms));
  if (t < 1e8) return `${t}m`;
  if (t / 1000 < 1e8) return `${Math.ceil(t / 1000)}S`;
  return `${Math.min(99_999_999, Math.ceil(t / 3_600_000))}H`;
}
