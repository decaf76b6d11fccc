// The Dockerfile frontend's warnings as build.go reports them (its warnOpts): on the vertex of
// the Dockerfile's local source, level 1, with the Dockerfile as source info and the warning's
// line as the range.
import type { Digest } from "../../digest.ts";
import type { SourceMap } from "../../llb/index.ts";
import type { ProgressWarning } from "../../progress/events.ts";
import type { FrontendContext } from "../frontend.ts";
import type { ParserWarning } from "./parser.ts";

export function dockerfileWarning(w: ParserWarning, vertex: Digest, sm: SourceMap): ProgressWarning {
  return {
    type: "warning",
    vertex,
    level: 1,
    short: w.short,
    detail: w.detail,
    url: w.url,
    source: { info: { filename: sm.filename, data: sm.data, ...(sm.definition ? { definition: sm.definition } : {}) }, ranges: [w.location] },
  };
}

/** Through the context's warn (the daemon's LLBBridge) or into its progress; a failure is no build's failure (build.go ignores c.Warn's error). */
export async function reportWarning(ctx: FrontendContext, w: ProgressWarning, signal: AbortSignal): Promise<void> {
  if (ctx.warn) await ctx.warn(w, signal).catch(() => undefined);
  else ctx.progress?.write(w);
}
