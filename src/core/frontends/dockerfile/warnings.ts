// The Dockerfile frontend's warnings as build.go reports them (its warnOpts): on the vertex of
// the Dockerfile's local source, level 1, with the Dockerfile as source info and the warning's
// line as the range; once per build (the builder warns from the first platform's conversion).
import type { ProgressWarning } from "../../progress/events.ts";
import type { FrontendContext, LocalSourceDefinition } from "../frontend.ts";
import { parseDockerfile, type ParserWarning } from "./parser.ts";
import { syntaxForward } from "./syntax.ts";

/**
 * An escape character at a line's end, then (past comment lines) a blank line: the only
 * Dockerfiles the parser warns about. Others are not parsed here (the conversion parses them).
 */
const MAY_WARN = /[\\`][ \t]*\r?\n(?:[ \t]*#[^\n]*\n)*[ \t]*\r?\n/;

export interface DockerfileRead {
  readonly opts: Readonly<Record<string, string>>;
  readonly text: Uint8Array;
  readonly filename: string;
  /** The local source the Dockerfile was read through (build.go's src, def and defVtx). */
  readonly source: LocalSourceDefinition;
}

/** Reports the parser's warnings about the Dockerfile read, unless another frontend (`# syntax=`) takes the build. */
export async function reportParserWarnings(ctx: FrontendContext, read: DockerfileRead, signal: AbortSignal): Promise<void> {
  const text = new TextDecoder().decode(read.text);
  if (!MAY_WARN.test(text) || syntaxForward(read.opts, text)) return;
  let warnings: readonly ParserWarning[];
  try {
    warnings = parseDockerfile(text).warnings;
  } catch {
    return; // the conversion reports the error
  }
  for (const w of warnings) await reportWarning(ctx, dockerfileWarning(w, read), signal);
}

export function dockerfileWarning(w: ParserWarning, read: DockerfileRead): ProgressWarning {
  return {
    type: "warning",
    vertex: read.source.vertex,
    level: 1,
    short: w.short,
    detail: w.detail,
    url: w.url,
    source: { info: { filename: read.filename, data: read.text, definition: read.source.definition }, ranges: [w.location] },
  };
}

/** Through the context's warn (the daemon's LLBBridge) or into its progress; a failure fails no build (build.go ignores c.Warn's error). */
async function reportWarning(ctx: FrontendContext, w: ProgressWarning, signal: AbortSignal): Promise<void> {
  if (ctx.warn) await ctx.warn(w, signal).catch(() => undefined);
  else ctx.progress?.write(w);
}
