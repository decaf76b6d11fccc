// gRPC status codes and the one place where our error codes and gRPC's meet.
import { BuildkitError, type ErrorCode } from "../../core/errors.ts";
import { apiPb } from "../pb/index.ts";
import { SourcedError, VertexTaggedError } from "../../core/error-sources.ts";
import { typedDetails, unknownDetails, wrapWithDetails } from "./error-details.ts";

export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

/** A google.protobuf.Any from a status's details. */
export interface StatusDetail {
  readonly type_url: string;
  readonly value: Uint8Array;
}

/** A call's failure as gRPC states it: a numeric code, a message, optional details. */
export class GrpcError extends Error {
  readonly code: StatusCode;
  readonly details: readonly StatusDetail[];

  constructor(code: StatusCode, message: string, options?: { cause?: unknown; details?: readonly StatusDetail[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GrpcError";
    this.code = code;
    this.details = options?.details ?? [];
  }
}

const TO_GRPC: Record<ErrorCode, StatusCode> = {
  NotFound: Status.NOT_FOUND,
  InvalidArgument: Status.INVALID_ARGUMENT,
  AlreadyExists: Status.ALREADY_EXISTS,
  FailedPrecondition: Status.FAILED_PRECONDITION,
  Unavailable: Status.UNAVAILABLE,
  Canceled: Status.CANCELLED,
  Unimplemented: Status.UNIMPLEMENTED,
  Internal: Status.INTERNAL,
  Unknown: Status.UNKNOWN,
};

const FROM_GRPC: Record<StatusCode, ErrorCode> = {
  [Status.OK]: "Internal", // never an error; listed so the table is total
  [Status.CANCELLED]: "Canceled",
  [Status.UNKNOWN]: "Unknown",
  [Status.INVALID_ARGUMENT]: "InvalidArgument",
  [Status.DEADLINE_EXCEEDED]: "Canceled",
  [Status.NOT_FOUND]: "NotFound",
  [Status.ALREADY_EXISTS]: "AlreadyExists",
  [Status.PERMISSION_DENIED]: "FailedPrecondition",
  [Status.RESOURCE_EXHAUSTED]: "Unavailable",
  [Status.FAILED_PRECONDITION]: "FailedPrecondition",
  [Status.ABORTED]: "Unavailable",
  [Status.OUT_OF_RANGE]: "InvalidArgument",
  [Status.UNIMPLEMENTED]: "Unimplemented",
  [Status.INTERNAL]: "Internal",
  [Status.UNAVAILABLE]: "Unavailable",
  [Status.DATA_LOSS]: "Internal",
  [Status.UNAUTHENTICATED]: "FailedPrecondition",
};

/**
 * The gRPC status a handler's failure is sent as. Untyped errors are UNKNOWN, as in grpc-go.
 * The sources and failed vertex along its causes go as details (BuildKit's grpcerrors.ToGRPC),
 * after those of a status it received and passes on.
 */
export function toGrpcError(err: unknown): GrpcError {
  const status = plainStatus(err);
  const typed = typedDetails(err, (e) => e instanceof GrpcError);
  if (typed.length === 0) return status;
  const received = receivedStatus(err);
  return new GrpcError(status.code, status.message, { cause: err, details: [...(received?.details ?? []), ...typed] });
}

function plainStatus(err: unknown): GrpcError {
  if (err instanceof GrpcError) return err;
  return new GrpcError(codeOf(err), wireMessage(err), { cause: err });
}

/**
 * The code along err's causes, as Go's grpcerrors.Code finds it: the first received status or
 * error of ours with a kind of its own; a source or vertex attached to an error is not one.
 */
function codeOf(err: unknown): StatusCode {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 64; depth++, e = e.cause) {
    if (e instanceof GrpcError) return e.code;
    // A source or vertex attached to an error: the code is the error's (its own when none is wrapped).
    if ((e instanceof SourcedError || e instanceof VertexTaggedError) && e.cause instanceof Error) continue;
    if (e instanceof BuildkitError) return TO_GRPC[e.code];
  }
  return Status.UNKNOWN;
}

/**
 * The message as BuildKit's would read: a failed step's name is not in it (the vertex detail
 * names the step), so `[2/3] RUN false: process … exit code: 1` goes as `process … exit code: 1`.
 */
function wireMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 64; depth++, e = e.cause) {
    if (e instanceof VertexTaggedError && e.unnamedMessage !== undefined && e.message === message) return e.unnamedMessage;
    if (e.message !== message) break;
  }
  return message;
}

/** The first received status along err's causes (Go's AsGRPCStatus). */
function receivedStatus(err: unknown): GrpcError | undefined {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 64; depth++, e = e.cause) if (e instanceof GrpcError) return e;
  return undefined;
}

/** A received gRPC failure as our error type, for callers that only know BuildkitError. */
export function toBuildkitError(err: GrpcError): BuildkitError {
  return new BuildkitError(FROM_GRPC[err.code], err.message, { cause: err });
}

/**
 * A received failure as errors (BuildKit's grpcerrors.FromGRPC): base(the status without the
 * details read here) wrapped by a SourcedError per source and a vertex error per vertex.
 */
export function fromGrpcStatus(status: { code: StatusCode; message: string; details: readonly StatusDetail[] }, base: (status: GrpcError) => Error = toBuildkitError): Error {
  const kept = new GrpcError(status.code, status.message, { details: unknownDetails(status.details) });
  return wrapWithDetails(base(kept), status.details);
}

/** Whether a number read off the wire is a known status code. */
export function isStatusCode(n: number): n is StatusCode {
  return Number.isInteger(n) && n >= 0 && n <= 16;
}

/** grpc-message is percent-encoded UTF-8: bytes outside printable ASCII, and '%', as %XX. */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(message)) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Decodes grpc-message; a malformed escape is kept as it is, as the spec asks. */
export function decodeGrpcMessage(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const hex = value.slice(i + 1, i + 3);
    if (value[i] === "%" && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...new TextEncoder().encode(value[i]));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** The grpc-status-details-bin value (base64 of google.rpc.Status) for an error with details. */
export function encodeStatusDetails(err: GrpcError): string | undefined {
  if (err.details.length === 0) return undefined;
  const status = apiPb.google.rpc.Status.encode({ code: err.code, message: err.message, details: [...err.details] }).finish();
  return Buffer.from(status).toString("base64").replace(/=+$/, "");
}

/** Reads grpc-status-details-bin loosely: anything unreadable is no details. */
export function decodeStatusDetails(value: string | undefined): StatusDetail[] {
  if (value === undefined || value === "") return [];
  try {
    const status = apiPb.google.rpc.Status.decode(Buffer.from(value, "base64"));
    return (status.details ?? []).map((d) => ({ type_url: d.type_url ?? "", value: d.value ?? new Uint8Array() }));
  } catch {
    return [];
  }
}
