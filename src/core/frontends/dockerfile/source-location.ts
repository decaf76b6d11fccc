/**
 * Where a Dockerfile's ops come from: the line ranges BuildKit's parser gives an instruction
 * (parser.Node.Location: one range per line, characters 0) as source-map locations.
 */
import type { SourceLocation, SourceMap, SourceRange } from "../../llb/index.ts";

/** One range per line from start to end (Go's toRanges; an end before start is start). */
export function lineRanges(start: number, end: number): SourceRange[] {
  const last = Math.max(start, end);
  const out: SourceRange[] = [];
  for (let line = start; line <= last; line++) out.push({ start: { line, character: 0 }, end: { line, character: 0 } });
  return out;
}

/** The op option dockerfile2llb's location(sm, ranges) gives: nothing without a source map. */
export function locationOption(sm: SourceMap | undefined, ranges: readonly SourceRange[]): { locations?: readonly SourceLocation[] } {
  return sm ? { locations: [sm.location(ranges)] } : {};
}
