/**
 * The one error type of buildkit-ts. A code from a closed set says what kind of failure it
 * is (the API maps it to a gRPC status, the CLI to an exit code); the message reads
 * `verb noun: cause`.
 */
export type ErrorCode =
  | "NotFound"
  | "InvalidArgument"
  | "AlreadyExists"
  | "FailedPrecondition"
  | "Unavailable"
  | "Canceled"
  | "Unimplemented"
  | "Internal"
  /** No particular kind: a step's process failing (BuildKit sends it as gRPC UNKNOWN). */
  | "Unknown";

export class BuildkitError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BuildkitError";
    this.code = code;
  }
}

/** A user's mistake in input (flags, definitions, graphs): printed without a stack. */
export function invalidArgument(message: string, cause?: unknown): BuildkitError {
  return new BuildkitError("InvalidArgument", message, cause === undefined ? undefined : { cause });
}

/** Prefixes an error's message with what was being done, keeping its code. */
export function withContext(context: string, err: unknown): BuildkitError {
  if (err instanceof BuildkitError) return new BuildkitError(err.code, `${context}: ${err.message}`, { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new BuildkitError("Internal", `${context}: ${message}`, { cause: err });
}
