/**
 * Source maps (BuildKit's llb.SourceMap): a file a graph was made from (a Dockerfile), and the
 * places in it each op comes from. Marshal writes them as the Definition's Source: one
 * SourceInfo per source map, and per op digest the locations (source index + line ranges).
 */
import { pb } from "../pb/index.ts";
import type { State } from "./state.ts";
import type { MarshalOptions } from "./constraints.ts";
import type { SourcePosition, SourceRange } from "../error-sources.ts";

export type { SourcePosition, SourceRange };

/** Ranges of one source map that an op comes from (Go's SourceLocation). */
export interface SourceLocation {
  readonly sourceMap: SourceMap;
  readonly ranges: readonly SourceRange[];
}

/**
 * A source file: its name, its bytes, and the graph that loads it. As in Go, `definition`
 * (pb.Definition bytes) is used when set; otherwise `state` is marshalled with the options of
 * the marshal that first needs it, and the result kept here.
 */
export class SourceMap {
  readonly state: State | undefined;
  readonly filename: string;
  readonly data: Uint8Array;
  definition: Uint8Array | undefined;

  constructor(state: State | undefined, filename: string, data: Uint8Array) {
    this.state = state;
    this.filename = filename;
    this.data = data;
  }

  /** Go's sm.Location(ranges): give it to an op as `locations: [sm.location(ranges)]`. */
  location(ranges: readonly SourceRange[]): SourceLocation {
    return { sourceMap: this, ranges };
  }
}

/** Marshals a state the way marshalDefinition does (passed in: no import cycle with state.ts). */
export type MarshalState = (state: State, opts: MarshalOptions | undefined) => Uint8Array;

/** Collects the locations of the vertices a marshal visits (Go's sourceMapCollector). */
export class SourceMapCollector {
  readonly #maps: SourceMap[] = [];
  readonly #index = new Map<SourceMap, number>();
  readonly #locations = new Map<string, SourceLocation[]>();

  /** Called once per vertex visited, with or without locations; a digest seen again appends. */
  add(digest: string, locations: readonly SourceLocation[] | undefined): void {
    for (const l of locations ?? []) {
      if (!this.#index.has(l.sourceMap)) {
        this.#index.set(l.sourceMap, this.#maps.length);
        this.#maps.push(l.sourceMap);
      }
    }
    const list = this.#locations.get(digest);
    if (list) list.push(...(locations ?? []));
    else this.#locations.set(digest, [...(locations ?? [])]);
  }

  /** pb.Source: locations by digest in key order (as gogo writes maps), infos in first-seen order. */
  marshal(marshalState: MarshalState, opts: MarshalOptions | undefined): pb.Source.$Properties {
    const locations: Record<string, pb.Locations.$Properties> = {};
    for (const digest of [...this.#locations.keys()].sort()) {
      const list = this.#locations.get(digest)!;
      locations[digest] = list.length ? { locations: list.map((l) => pbLocation(this.#index.get(l.sourceMap)!, l.ranges)) } : {};
    }
    if (this.#maps.length === 0) return { locations };
    const infos = this.#maps.map((m) => {
      if (m.definition === undefined && m.state) m.definition = marshalState(m.state, opts);
      const info: pb.SourceInfo.$Properties = {};
      if (m.filename) info.filename = m.filename;
      if (m.data.byteLength) info.data = m.data;
      if (m.definition) info.definition = pb.Definition.decode(m.definition);
      return info;
    });
    return { locations, infos };
  }
}

function pbLocation(sourceIndex: number, ranges: readonly SourceRange[]): pb.Location.$Properties {
  const out: pb.Location.$Properties = {};
  if (sourceIndex !== 0) out.sourceIndex = sourceIndex;
  // gogo's Range has non-nullable start and end: both are written, even when zero.
  if (ranges.length) out.ranges = ranges.map((r) => ({ start: pbPosition(r.start), end: pbPosition(r.end) }));
  return out;
}

function pbPosition(p: SourcePosition): pb.Position.$Properties {
  const out: pb.Position.$Properties = {};
  if (p.line !== 0) out.line = p.line;
  if (p.character !== 0) out.character = p.character;
  return out;
}
