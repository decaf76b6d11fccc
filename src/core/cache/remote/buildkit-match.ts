/**
 * Which records of an imported BuildKit cache answer a vertex's outputs, found as BuildKit's
 * cache manager walks links: a source output matches records whose digest is
 * rootKey(CacheMap digest, output); any other vertex output matches records with its digest
 * whose every input links, with the input's selector, to a record matching that input. Vertices
 * are told inputs first (the solver computes keys bottom-up), so each answer is one pass over
 * the candidates. Slow (content-hash) links are not followed: we do not compute BuildKit's
 * contenthash, so only selector links lead anywhere.
 */
import type { LoadedOp } from "../../llb/definition.ts";
import { rootKey, vertexCacheMap } from "./buildkit-cache-map.ts";
import type { BkRecord, BuildkitCache } from "./buildkit-format.ts";

export class BuildkitMatcher {
  readonly cache: BuildkitCache;
  readonly #byDigest = new Map<string, number[]>();
  /** "vertex digest output" → indexes of matching records. */
  readonly #matches = new Map<string, Set<number>>();

  constructor(cache: BuildkitCache) {
    this.cache = cache;
    cache.config.records.forEach((r, i) => this.#byDigest.set(r.digest, [...(this.#byDigest.get(r.digest) ?? []), i]));
  }

  /** The records matching each output of op (in output order); remembered for its consumers. */
  match(op: LoadedOp, keys: { readonly contentKey?: string; readonly remoteKeys?: readonly string[] }): BkRecord[][] {
    const cm = vertexCacheMap(op, keys);
    const out: BkRecord[][] = [];
    for (let output = 0; output < op.outputs; output++) {
      const found = new Set<number>();
      if (cm !== undefined && cm.deps.length === op.inputs.length) {
        for (const d of cm.digests) {
          for (const i of this.#byDigest.get(rootKey(d, output)) ?? []) {
            const r = this.cache.config.records[i]!;
            if (this.#linked(r, op, cm.deps.map((dep) => dep.selector))) found.add(i);
          }
        }
      }
      this.#matches.set(`${op.digest} ${output}`, found);
      out.push([...found].map((i) => this.cache.config.records[i]!));
    }
    return out;
  }

  #linked(r: BkRecord, op: LoadedOp, selectors: readonly string[]): boolean {
    if (selectors.length === 0) return r.inputs.length === 0;
    if (r.inputs.length !== selectors.length) return false;
    return op.inputs.every((input, i) => {
      const matching = this.#matches.get(`${input.digest} ${input.index}`);
      return matching !== undefined && r.inputs[i]!.some((l) => l.selector === selectors[i] && matching.has(l.link));
    });
  }
}
