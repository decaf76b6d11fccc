// How the CLI reports a failure: one line, `error: <message>`, on stderr, after the lines of the
// build's files it concerns (a Dockerfile's failing step, as buildctl prints them); the stack only
// in debug mode (--debug or BUILDKIT_DEBUG=1); with --progress rawjson, `{"type":"error",…}`
// (the sources as a field). Exit 2 for usage errors, 1 for everything else.
import { errorSources, formatSource, type ErrorSource } from "../core/error-sources.ts";
import { safeError, safeLog } from "../ui/sanitize.ts";
import { notice } from "./notice.ts";

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A mistake in how the CLI was called (unknown command or flag, missing argument): exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

let debug = process.env.BUILDKIT_DEBUG === "1";

export function setDebug(on: boolean): void {
  debug = on;
}

export function isDebug(): boolean {
  return debug;
}

// citty's own parse errors (CLIError: missing positional, bad enum value) are usage errors too;
// citty does not export the class, so it is recognised by name.
function isUsageError(err: unknown): boolean {
  return err instanceof UsageError || (err instanceof Error && err.name === "CLIError");
}

export function exitCodeFor(err: unknown): number {
  return isUsageError(err) ? EXIT_USAGE : EXIT_FAILURE;
}

const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * The error as one line: colours stripped (citty colours its messages), newlines folded, any
 * other control character escaped and a huge message cut (it may quote a definition).
 */
export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return safeError(message.replace(ANSI, "").trim()) || "unknown error";
}

/**
 * Prints the lines of the build's files the error concerns (as buildctl prints errdefs.Sources),
 * then `error: <message>` (plus the stack and causes in debug mode), and exits.
 */
export function fail(err: unknown, code: number = exitCodeFor(err)): never {
  const sources = errorSources(err);
  let text = sources.map((s) => safeLog(formatSource(s).replace(/\r(?=\n)/g, ""))).join("");
  text += `error: ${oneLine(err)}\n`;
  if (debug) {
    // The stack, then each cause's (bounded: a cause chain can be cyclic).
    let e: unknown = err;
    for (let depth = 0; e instanceof Error && depth < 8; depth++, e = e.cause) {
      text += `${depth === 0 ? "" : "caused by: "}${safeLog(e.stack ?? e.message)}\n`;
    }
  }
  notice("error", text, { error: oneLine(err), exitCode: code, ...(sources.length > 0 ? { sources: sources.map(sourceField) } : {}), ...(debug ? { details: text } : {}) });
  process.exit(code);
}

/** A source in the rawjson error notice: the file, the ranges and the excerpt buildctl would print. */
function sourceField(s: ErrorSource): { filename: string; ranges: ErrorSource["ranges"]; excerpt: string } {
  return { filename: s.info.filename, ranges: s.ranges, excerpt: formatSource(s) };
}
