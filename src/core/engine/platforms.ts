/**
 * The views a multi-platform export takes of its platforms' results: each platform's metadata
 * and sources (as BuildKit's exptypes.ParseKey and filterImagePlatforms), and several solves as
 * one for a cache export.
 */
import type { Digest } from "../digest.ts";
import type { LoadedOp } from "../llb/definition.ts";
import type { Platform } from "../llb/platform.ts";
import { samePlatform, type SourceProvenance } from "../provenance/capture.ts";
import type { VertexSummary } from "../solver/job.ts";
import type { SolvedResult } from "./engine.ts";

/**
 * The metadata one platform's exporters see: KEY/ID for this platform over a plain KEY;
 * another platform's KEY/ID left out (exptypes.ParseKey, applied to every key).
 */
export function metadataFor(meta: Readonly<Record<string, Uint8Array>>, id: string, ids: readonly string[]): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  const own: [string, Uint8Array][] = [];
  for (const [k, v] of Object.entries(meta)) {
    const of = ids.find((p) => k.endsWith(`/${p}`));
    if (of === undefined) out[k] = v;
    else if (of === id) own.push([k.slice(0, -(id.length + 1)), v]);
  }
  for (const [k, v] of own) out[k] = v;
  return out;
}

/**
 * The resolved images one platform's build information lists (BuildKit's filterImagePlatforms):
 * an image resolved for every platform of the build counts only for its own; others count for all.
 */
export function sourcesFor(sources: readonly SourceProvenance[], platform: Platform, all: readonly { platform: Platform }[]): SourceProvenance[] {
  const images = sources.filter((s) => s.type === "docker-image");
  const matches = (a: Platform | undefined, b: Platform) => a !== undefined && samePlatform(a, b);
  const perPlatform = new Set(images.filter((i) => all.every((p) => images.some((j) => j.ref === i.ref && matches(j.platform, p.platform)))).map((i) => i.ref));
  return sources.filter((s) => s.type !== "docker-image" || !perPlatform.has(s.ref) || s.platform === undefined || (s.platform.os === platform.os && s.platform.architecture === platform.architecture));
}

/**
 * Several solves as one for a cache export: their ops by digest, their vertices (a vertex shared
 * by two platforms, such as the build context, once, where it first appears: still before its
 * dependants) and their results.
 */
export function mergedSolves(solves: readonly SolvedResult[]): { def: { ops: ReadonlyMap<Digest, LoadedOp> }; vertices: readonly VertexSummary[]; results: string[] } {
  const results = solves.flatMap((s) => (s.ref ? [s.ref.id] : []));
  const [only] = solves;
  if (solves.length === 1 && only) return { def: only.def, vertices: only.vertices, results };
  const ops = new Map<Digest, LoadedOp>();
  const vertices = new Map<Digest, VertexSummary>();
  for (const s of solves) {
    for (const [d, op] of s.def.ops) ops.set(d, op);
    for (const v of s.vertices) if (!vertices.has(v.digest)) vertices.set(v.digest, v);
  }
  return { def: { ops }, vertices: [...vertices.values()], results };
}
