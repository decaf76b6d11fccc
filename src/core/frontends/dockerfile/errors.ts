import { BuildkitError } from "../../errors.ts";
import type { SourceRange } from "../../llb/index.ts";
import { lineRanges } from "./source-location.ts";

/**
 * An error in a Dockerfile, with the lines it concerns (1-based, inclusive): BuildKit's
 * parser.ErrorLocation. The message is BuildKit's own; the frontend attaches the lines as the
 * error's source (SourcedError), which clients print above it.
 */
export class DockerfileError extends BuildkitError {
  readonly startLine: number;
  readonly endLine: number;

  constructor(message: string, startLine: number, endLine = startLine) {
    super("InvalidArgument", message);
    this.name = "DockerfileError";
    this.startLine = startLine;
    this.endLine = Math.max(startLine, endLine);
  }

  /** The location as Go's parser gives it: one range per line, characters 0. */
  get ranges(): SourceRange[] {
    return lineRanges(this.startLine, this.endLine);
  }
}

/** A plain failure message; callers attach the line with `atLines`. */
export class DockerfileSyntaxError extends Error {}

/** Gives an error the lines it happened on, unless it already has some (Go's parser.WithLocation). */
export function atLines(err: unknown, start: number, end = start): DockerfileError {
  if (err instanceof DockerfileError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new DockerfileError(message, start, end);
}

/** "Dockerfile:3: unknown instruction: FOO": a one-line form for logs and tests. */
export function formatDockerfileError(err: DockerfileError, filename = "Dockerfile"): string {
  const lines = err.startLine === err.endLine ? `${err.startLine}` : `${err.startLine}-${err.endLine}`;
  return `${filename}:${lines}: ${err.message}`;
}
