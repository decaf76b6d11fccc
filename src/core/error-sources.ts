/**
 * Where in a build's source file (a Dockerfile) an error happened: BuildKit's errdefs.Source.
 * A frontend attaches one to its own errors (a parse error on line 3), and the solver attaches
 * the failing step's locations from the definition's source map (pb.Source); clients print
 * the lines (formatSource) before the error, as buildctl does.
 */
import { BuildkitError, type ErrorCode } from "./errors.ts";

/** A position in a source file (pb.Position): 1-based line, 0-based character. */
export interface SourcePosition {
  readonly line: number;
  readonly character: number;
}

/** An area of a source file (pb.Range). */
export interface SourceRange {
  readonly start: SourcePosition;
  readonly end: SourcePosition;
}

/** A source file (pb.SourceInfo): its name, its bytes, and the definition that loads it. */
export interface SourceInfo {
  readonly filename: string;
  readonly data: Uint8Array;
  /** pb.Definition bytes (the local source that reads the file), when known. */
  readonly definition?: Uint8Array;
}

/** One place an error concerns. */
export interface ErrorSource {
  readonly info: SourceInfo;
  readonly ranges: readonly SourceRange[];
}

/** An error with a source attached; message and code are the wrapped error's. */
export class SourcedError extends BuildkitError {
  readonly source: ErrorSource;

  constructor(err: unknown, source: ErrorSource) {
    const code = err instanceof BuildkitError ? err.code : "Internal";
    super(code, err instanceof Error ? err.message : String(err), { cause: err });
    this.name = "SourcedError";
    this.source = source;
  }
}

/**
 * An error that names the vertex (build step) it happened in, by digest: BuildKit's
 * errdefs.VertexError. The solver's VertexError is one; so is one read back from a gRPC status.
 */
export class VertexTaggedError extends BuildkitError {
  readonly vertex: string;
  /**
   * The message without the step's name, when the message starts with it (the solver's
   * `[2/3] RUN false: process …`): what goes over gRPC, where the vertex detail names the step.
   */
  readonly unnamedMessage: string | undefined;

  constructor(code: ErrorCode, message: string, vertex: string, options?: { cause?: unknown; unnamedMessage?: string }) {
    super(code, message, options);
    this.name = "VertexTaggedError";
    this.vertex = vertex;
    this.unnamedMessage = options?.unnamedMessage;
  }
}

/** err with `source` attached (BuildKit's errdefs.WithSource). */
export function withSource(err: unknown, source: ErrorSource): SourcedError {
  return new SourcedError(err, source);
}

/** Every source attached along err's cause chain, innermost first (BuildKit's errdefs.Sources). */
export function errorSources(err: unknown): ErrorSource[] {
  const out: ErrorSource[] = [];
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 32; depth++, e = e.cause) {
    if (e instanceof SourcedError) out.unshift(e.source);
  }
  return out;
}

/**
 * The lines a source concerns, with a little context, as BuildKit's Source.Print writes them:
 *
 *     Dockerfile:3
 *     --------------------
 *        1 |     FROM busybox
 *        2 |     COPY a /a
 *        3 | >>> RUN false
 *        4 |
 *     --------------------
 *
 * Empty when the ranges fall outside the file.
 */
export function formatSource(source: ErrorSource): string {
  const lines = new TextDecoder().decode(source.info.data).split("\n");
  const span = lineSpan(source.ranges);
  if (!span || span.start > lines.length || span.start < 1) return "";
  let { start, end } = span;
  if (end > lines.length) end = lines.length;
  const pad = end === start ? 4 : 2;
  const first = start;
  // Go's loop: widen by up to `pad` lines, alternating before and after.
  for (let p = 0; p < pad; p++) {
    if (start > 1) {
      start--;
      p++;
    }
    if (end !== lines.length) {
      end++;
      p++;
    }
  }
  let out = `${source.info.filename}:${first}\n--------------------\n`;
  for (let i = start; i <= end; i++) {
    const marker = source.ranges.some((r) => r.start.line <= i && Math.max(r.end.line, r.start.line) >= i) ? ">>>" : "   ";
    out += ` ${String(i).padStart(3)} | ${marker} ${lines[i - 1]}\n`;
  }
  return `${out}--------------------\n`;
}

function lineSpan(ranges: readonly SourceRange[]): { start: number; end: number } | undefined {
  if (ranges.length === 0) return undefined;
  let start = Infinity;
  let end = 0;
  for (const r of ranges) {
    start = Math.min(start, r.start.line);
    end = Math.max(end, r.end.line, r.start.line);
  }
  return { start, end };
}
