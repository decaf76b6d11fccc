/**
 * Cache import for one build. Each `--import-cache` manifest is read before the solve (a cache
 * that cannot be read is a warning, as in BuildKit: the build goes on without it). The solve
 * then sees the local cache index through `store`, whose lookup answers a local miss from the
 * imported records with an id `remote:<chain>`; `loadResult` materialises such an id (layers
 * downloaded, verified, applied as snapshots by chain ID), records every imported key whose
 * result is now present into the local index (so the next build hits locally), and returns it.
 *
 * A record whose layers cannot be had (a corrupted or missing blob, a wrong diffID, a registry
 * gone) is a miss: the load answers undefined, the solver runs the step, and the failure is a
 * warning on a progress vertex. Cancellation is not a miss.
 */
import type { ContentIndex } from "../../content/index-db.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import type { Digest } from "../../digest.ts";
import { BuildkitError } from "../../errors.ts";
import type { ProgressWriter } from "../../progress/events.ts";
import type { RegistryClient } from "../../registry/index.ts";
import type { ResultRef } from "../../solver/op.ts";
import type { Worker } from "../../worker/worker.ts";
import type { SnapshotRefs } from "../refs.ts";
import type { CacheStore } from "../store.ts";
import { chainIDs, materialiseChain, snapshotName } from "./chain.ts";
import type { KeyedVertex, LateInput } from "../../solver/scheduler.ts";
import { BuildkitMatcher } from "./buildkit-match.ts";
import type { BkRecord } from "./buildkit-format.ts";
import { inputContentDigest } from "./content-keys.ts";
import { resultLayers } from "./buildkit-format.ts";
import type { CacheDocument, CacheLayer } from "./format.ts";
import { readLocalCache } from "./local.ts";
import { readStoreCache } from "./store-cache.ts";
import { startTask, withTask, type ProgressTask } from "../../progress/task.ts";
import { readRegistryCache } from "./registry.ts";
import type { BlobSource, LoadedCache } from "./source.ts";
import { cacheLocation } from "./spec.ts";
import type { CacheImportSpec } from "./spec.ts";

const REMOTE = "remote:";

export interface CacheImportDeps {
  readonly worker: Worker;
  readonly refs: SnapshotRefs;
  /** The local cache index. */
  readonly store: CacheStore;
  readonly content: ContentStore;
  readonly index: ContentIndex;
  readonly registry: () => Promise<RegistryClient>;
  readonly progress: ProgressWriter;
  readonly signal: AbortSignal;
}

/** One imported result: its layers and where they come from. */
interface RemoteChain {
  readonly name: string;
  readonly layers: readonly CacheLayer[];
  readonly source: BlobSource;
  readonly description: string;
}

/** An imported answer (our key, output), by the snapshot its result is. */
interface RemoteRecord {
  readonly key: Digest;
  readonly output: number;
  readonly description?: string;
  readonly kind?: string;
  readonly snapshot: string;
}

export interface CacheImports {
  /** The local index, with imported records answering its misses. */
  readonly store: CacheStore;
  /** Loads a result id from the solve: imported ones are materialised, others are local. */
  loadResult(id: string): Promise<ResultRef | undefined>;
  /** For the solver: maps each vertex's key onto the imported BuildKit records it matches. */
  readonly observeKey?: (v: KeyedVertex) => void;
  /** For the solver: a vertex that missed, its inputs there, matched by content keys. */
  readonly lateLookup?: (v: KeyedVertex, inputs: readonly LateInput[]) => Promise<void>;
}

/** Reads every import spec (warnings for those that cannot be read). */
export async function importCaches(specs: readonly CacheImportSpec[], deps: CacheImportDeps): Promise<CacheImports> {
  const caches: LoadedCache[] = [];
  for (const spec of specs) caches.push(...(await readOne(spec, deps)));
  return new Imports(caches, deps);
}

/** The caches one spec names (a registry image may carry one inline cache per platform, or none). */
async function readOne(spec: CacheImportSpec, deps: CacheImportDeps): Promise<LoadedCache[]> {
  return await withTask(deps.progress, `importing cache manifest from ${cacheLocation(spec)}`, async (task) => {
    try {
      if (spec.type === "local") return [await readLocalCache(spec.src, spec.tag)];
      if (spec.type === "store") return [await readStoreCache(spec.name, spec.store, spec.digest, deps.signal)];
      return await readRegistryCache(spec.ref, { registry: deps.registry, content: deps.content, index: deps.index, signal: deps.signal }, task);
    } catch (err) {
      if (deps.signal.aborted || (err instanceof BuildkitError && err.code === "Canceled")) throw err;
      task.warn(`importing cache from ${cacheLocation(spec)}: ${err instanceof Error ? err.message : String(err)}`);
      return [];
    }
  });
}

class Imports implements CacheImports {
  readonly store: CacheStore;
  readonly #deps: CacheImportDeps;
  /** "key output" → the remote id answering it. */
  readonly #answers = new Map<string, string>();
  /** remote id (remote:<snapshot name>) → the chain to make. */
  readonly #chains = new Map<string, RemoteChain>();
  /** snapshot name → imported records whose result it is. */
  readonly #bySnapshot = new Map<string, RemoteRecord[]>();
  readonly #loading = new Map<string, Promise<string | undefined>>();

  readonly #matchers: { readonly cache: LoadedCache; readonly matcher: BuildkitMatcher }[] = [];

  constructor(caches: readonly LoadedCache[], deps: CacheImportDeps) {
    this.#deps = deps;
    for (const cache of caches) {
      if ("legacy" in cache) this.#addLegacy(cache, cache.legacy);
      else this.#matchers.push({ cache, matcher: new BuildkitMatcher(cache.buildkit) });
    }
    this.store = this.#wrap(deps.store);
  }

  readonly observeKey = (v: KeyedVertex): void => {
    for (const { cache, matcher } of this.#matchers) this.#answerMatches(cache, matcher, v, matcher.match(v.op, v));
  };

  readonly lateLookup = async (v: KeyedVertex, inputs: readonly LateInput[]): Promise<void> => {
    /** Content digests by input and dep, computed once for every cache. */
    const digests = new Map<number, Promise<string | undefined>>();
    for (const { cache, matcher } of this.#matchers) {
      const cm = matcher.candidate(v.op, v);
      if (cm === undefined) continue;
      const content = await Promise.all(
        cm.deps.map((dep, i) => {
          if (dep.contentSelectors === undefined) return undefined;
          let digest = digests.get(i);
          if (digest === undefined) {
            digest = inputContentDigest(this.#deps.worker, inputs[i]!.ref.id, inputs[i]!.op, dep);
            digests.set(i, digest);
          }
          return digest;
        }),
      );
      this.#answerMatches(cache, matcher, v, matcher.lateMatch(v.op, cm, content));
    }
  };

  #answerMatches(cache: LoadedCache, matcher: BuildkitMatcher, v: KeyedVertex, perOutput: readonly BkRecord[][]): void {
    perOutput.forEach((records, output) => {
      for (const record of records) {
        const layers = resultLayers(matcher.cache, record);
        if (layers === undefined || layers.length === 0) continue;
        this.#answer(cache, layers, { key: v.key, output, description: undefined, kind: v.op.kind });
        break;
      }
    });
  }

  #addLegacy(cache: LoadedCache, doc: CacheDocument): void {
    for (const record of doc.records) {
      const layers = record.layers.map((i) => doc.layers[i]!);
      this.#answer(cache, layers, record);
    }
  }

  #answer(cache: LoadedCache, layers: readonly CacheLayer[], record: Omit<RemoteRecord, "snapshot">): void {
    const snapshot = snapshotName(chainIDs(layers.map((l) => l.diffID)).at(-1));
    const id = REMOTE + snapshot;
    if (!this.#chains.has(id)) this.#chains.set(id, { name: cache.name, layers, source: cache.source, description: record.description ?? "" });
    const slot = `${record.key} ${record.output}`;
    if (this.#answers.has(slot)) return;
    this.#answers.set(slot, id);
    const list = this.#bySnapshot.get(snapshot) ?? [];
    list.push({ ...record, snapshot });
    this.#bySnapshot.set(snapshot, list);
  }

  #wrap(local: CacheStore): CacheStore {
    const answers = this.#answers;
    return {
      lookup: (key: Digest, index: number) => local.lookup(key, index) ?? answers.get(`${key} ${index}`),
      save: (key, index, resultId, meta) => local.save(key, index, resultId, meta),
      touch: (ids) => local.touch(ids.filter((id) => !id.startsWith(REMOTE))),
      setSize: (id, size) => local.setSize(id, size),
      get: (id) => local.get(id),
      list: () => local.list(),
      remove: (id) => local.remove(id),
      close: () => local.close(),
    };
  }

  async loadResult(id: string): Promise<ResultRef | undefined> {
    if (!id.startsWith(REMOTE)) return await this.#deps.refs.load(id);
    let loading = this.#loading.get(id);
    if (loading === undefined) {
      loading = this.#materialise(id);
      this.#loading.set(id, loading);
    }
    const name = await loading;
    return name === undefined ? undefined : await this.#deps.refs.load(name);
  }

  async #materialise(id: string): Promise<string | undefined> {
    const chain = this.#chains.get(id);
    if (chain === undefined) return undefined;
    let task: ProgressTask | undefined;
    const lazyTask = (): ProgressTask => (task ??= startTask(this.#deps.progress, `importing cache layers of ${chain.description || id} from ${chain.name}`));
    try {
      const top = await materialiseChain(chain.layers, chain.source, this.#deps, lazyTask);
      await this.#recordPresent(chain, top);
      task?.done();
      return top;
    } catch (err) {
      if (this.#deps.signal.aborted || (err instanceof BuildkitError && err.code === "Canceled")) {
        task?.done(err);
        throw err;
      }
      const t = lazyTask();
      t.warn(`cache for ${chain.description || id} from ${chain.name} not used: ${err instanceof Error ? err.message : String(err)}`);
      t.done();
      return undefined;
    }
  }

  /** Records in the local index every imported key whose result is a snapshot of the chain. */
  async #recordPresent(chain: RemoteChain, top: string): Promise<void> {
    const names = [top, ...chainIDs(chain.layers.map((l) => l.diffID)).map(snapshotName)];
    const local = this.#deps.store;
    for (const name of new Set(names)) {
      for (const record of this.#bySnapshot.get(name) ?? []) {
        if (local.lookup(record.key, record.output) !== undefined) continue;
        local.save(record.key, record.output, record.snapshot, { description: record.description ?? "", kind: record.kind ?? "" });
      }
    }
  }
}
