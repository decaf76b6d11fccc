/**
 * Which records of an imported BuildKit cache answer a vertex's outputs, found as BuildKit's
 * cache manager walks links: a source output matches records whose digest is
 * rootKey(CacheMap digest, output); any other vertex output matches records with its digest
 * whose every input links, with the input's selector, to a record matching that input, or,
 * with no selector, to the input's content record rootKey(content digest, -1) (BuildKit's
 * "slow" key, contenthash over the input's selected paths).
 *
 * Vertices are told inputs first when keys are known (`match`, fast links only); a vertex
 * that missed is asked again once its inputs exist (`lateMatch`), with the content digests of
 * its inputs and whatever its inputs matched late in turn.
 */
import type { LoadedOp } from "../../llb/definition.ts";
import { rootKey, vertexCacheMap } from "./buildkit-cache-map.ts";
import type { BuildkitCacheMap } from "./buildkit-cache-map.ts";
import type { BkRecord, BuildkitCache } from "./buildkit-format.ts";

type Keys = { readonly contentKey?: string; readonly remoteKeys?: readonly string[] };

/** The output BuildKit gives content keys: rootKey(digest, -1). */
export const CONTENT_OUTPUT = -1;

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
  match(op: LoadedOp, keys: Keys): BkRecord[][] {
    return this.#matchWith(op, vertexCacheMap(op, keys), undefined);
  }

  /**
   * The CacheMap of op when some record carries its digest (so content digests of its inputs
   * could make it match); undefined when nothing here can.
   */
  candidate(op: LoadedOp, keys: Keys): BuildkitCacheMap | undefined {
    const cm = vertexCacheMap(op, keys);
    if (cm === undefined || cm.deps.length !== op.inputs.length || op.inputs.length === 0) return undefined;
    for (let output = 0; output < op.outputs; output++) {
      if (cm.digests.some((d) => this.#byDigest.has(rootKey(d, output)))) return cm;
    }
    return undefined;
  }

  /** Like match, also following content links: `content[i]` is input i's content digest. */
  lateMatch(op: LoadedOp, cm: BuildkitCacheMap, content: readonly (string | undefined)[]): BkRecord[][] {
    return this.#matchWith(op, cm, content.map((c) => (c === undefined ? undefined : rootKey(c, CONTENT_OUTPUT))));
  }

  #matchWith(op: LoadedOp, cm: BuildkitCacheMap | undefined, contentRecords: readonly (string | undefined)[] | undefined): BkRecord[][] {
    const out: BkRecord[][] = [];
    for (let output = 0; output < op.outputs; output++) {
      const slot = `${op.digest} ${output}`;
      const found = new Set<number>(this.#matches.get(slot) ?? []);
      if (cm !== undefined && cm.deps.length === op.inputs.length) {
        for (const d of cm.digests) {
          for (const i of this.#byDigest.get(rootKey(d, output)) ?? []) {
            const r = this.cache.config.records[i]!;
            if (this.#linked(r, op, cm.deps.map((dep) => dep.selector), contentRecords)) found.add(i);
          }
        }
      }
      this.#matches.set(slot, found);
      out.push([...found].map((i) => this.cache.config.records[i]!));
    }
    return out;
  }

  #linked(r: BkRecord, op: LoadedOp, selectors: readonly string[], contentRecords: readonly (string | undefined)[] | undefined): boolean {
    if (selectors.length === 0) return r.inputs.length === 0;
    if (r.inputs.length !== selectors.length) return false;
    const records = this.cache.config.records;
    return op.inputs.every((input, i) => {
      const matching = this.#matches.get(`${input.digest} ${input.index}`);
      const content = contentRecords?.[i];
      return r.inputs[i]!.some((l) => (l.selector === selectors[i] && matching?.has(l.link) === true) || (content !== undefined && l.selector === "" && records[l.link]?.digest === content));
    });
  }
}
