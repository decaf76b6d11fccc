/**
 * The scheduler: solves a loaded definition with op adapters, a cache index and a progress
 * writer, knowing nothing of containers.
 *
 * Keys first, work lazily. A vertex's cache key needs its inputs' keys (and, for sources, the
 * adapter's content key), so keys are computed bottom-up for every vertex the result depends on,
 * and each known key is looked up at once (a hit is reported `cached`). Results are then
 * materialised top-down from the result: a vertex whose key hit is loaded from the cache and
 * its inputs are never run; a miss runs its inputs, then the op. Vertices marked ignore_cache
 * skip the lookup and always run. Identical work (same key) runs once across concurrent solves;
 * a failure cancels everything else in flight and names its vertex.
 */
import { availableParallelism } from "node:os";
import type { CacheStore } from "../cache/store.ts";
import type { Digest } from "../digest.ts";
import { BuildkitError } from "../errors.ts";
import type { LoadedDefinition, LoadedOp } from "../llb/definition.ts";
import type { ProgressWriter } from "../progress/events.ts";
import { cacheKey, outputKey } from "./cache-key.ts";
import { Inflight, share, type Handle, type WorkContext } from "./inflight.ts";
import { Job, type Vertex, type VertexSummary } from "./job.ts";
import type { OpResolver, ResultRef } from "./op.ts";

export interface SolveOptions {
  readonly resolve: OpResolver;
  readonly store: CacheStore;
  readonly progress: ProgressWriter;
  /** Turns a cached result id back into a ref; undefined when its data is gone (a miss). */
  loadResult(id: string): Promise<ResultRef | undefined>;
  /** Ops (and content-key computations) running at once; default 2 × CPUs, at least 4. */
  readonly concurrency?: number;
  /** Run every op, ignoring cached results (results are still recorded). */
  readonly noCache?: boolean;
  readonly signal?: AbortSignal;
  /**
   * Told each vertex's key as soon as it is known, before the cache is asked (inputs before
   * their consumers): remote cache imports map BuildKit's keys onto ours here.
   */
  observeKey?(v: KeyedVertex): void;
  /**
   * Told a vertex whose key missed once its inputs are there, before it runs: remote cache
   * imports match BuildKit's content-based keys of the inputs here (and keys whose inputs
   * matched late), answering through the store, which is then asked again.
   */
  lateLookup?(v: KeyedVertex, inputs: readonly LateInput[]): Promise<void>;
  /** Where identical in-flight work is joined; default one per store, shared process-wide. */
  readonly inflight?: Inflight;
}

export interface KeyedVertex {
  readonly op: LoadedOp;
  readonly key: Digest;
  readonly contentKey?: string;
  readonly remoteKeys?: readonly string[];
}

/** An input of a vertex, materialised: its result and the op that made it. */
export interface LateInput {
  readonly ref: ResultRef;
  readonly op: LoadedOp;
}

export interface SolveResult {
  /** The result's ref, held for the caller, who releases it; undefined for an empty definition. */
  readonly result: ResultRef | undefined;
  /** Every vertex the result depends on, inputs first. */
  readonly vertices: readonly VertexSummary[];
}

const sharedInflight = new WeakMap<CacheStore, Inflight>();

export function defaultConcurrency(): number {
  // Steps often wait (sleep, network, disk) rather than compute, so allow well more than one
  // per core; BuildKit itself sets no limit by default.
  return Math.max(16, availableParallelism() * 4);
}

export async function solve(def: LoadedDefinition, opts: SolveOptions): Promise<SolveResult> {
  const target = def.result;
  if (target === undefined) return { result: undefined, vertices: [] };
  const inflight = opts.inflight ?? inflightFor(opts.store);
  const job = new Job(def, target.digest, {
    resolve: opts.resolve,
    store: opts.store,
    progress: opts.progress,
    inflight,
    concurrency: opts.concurrency ?? defaultConcurrency(),
    noCache: opts.noCache ?? false,
    loadResult: opts.loadResult,
    observeKey: opts.observeKey,
    lateLookup: opts.lateLookup,
  });
  const onAbort = (): void => job.controller.abort(new BuildkitError("Canceled", "solving definition: canceled"));
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const root = job.vertex(target.digest);
    // Announce every vertex up front, in graph order, as BuildKit does: displays number them
    // in that order, and statuses reported while computing keys have a named vertex to go to.
    for (const v of job.vertices()) opts.progress.write({ type: "vertex", digest: v.digest, name: v.name, inputs: v.inputs });
    await materialiseAll(job, root);
    const result = job.retain(root, target.index);
    job.settleCaller(root);
    return { result, vertices: job.summary() };
  } catch (err) {
    const error = job.firstError ?? (job.signal.aborted ? new BuildkitError("Canceled", "solving definition: canceled", { cause: err }) : err);
    job.controller.abort(error); // whatever failed, stop the rest
    throw error;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    await job.drain();
    // Canceled work stops in the background; wait for it so a failed or canceled solve
    // returns only once its containers are gone and its mounts undone.
    await inflight.quiesce();
    await job.releaseAll();
  }
}

function inflightFor(store: CacheStore): Inflight {
  let inflight = sharedInflight.get(store);
  if (inflight === undefined) {
    inflight = new Inflight();
    sharedInflight.set(store, inflight);
  }
  return inflight;
}

/** The result, plus every ignore_cache vertex (they run even when a dependent is cached). */
async function materialiseAll(job: Job, root: Vertex): Promise<void> {
  const forced = job.opts.noCache ? [] : [...job.vertices()].filter((v) => v.ignoreCache && v !== root);
  for (const v of job.vertices()) void keyOf(job, v); // start every key (and content key) now
  await Promise.all([root, ...forced].map((v) => materialise(job, v)));
}

function keyOf(job: Job, v: Vertex): Promise<Digest> {
  v.keyPromise ??= job.track(computeKey(job, v));
  return v.keyPromise;
}

async function computeKey(job: Job, v: Vertex): Promise<Digest> {
  const inputKeys = await Promise.all(
    v.op.inputs.map(async (input) => outputKey(await keyOf(job, job.vertex(input.digest)), input.index)),
  );
  const contentKey = await contentKeyOf(job, v);
  const inputContentKeys = v.adapter.inputKey === undefined ? undefined : await inputContentKeysOf(job, v);
  const key = await cacheKey(v.op, inputKeys, { contentKey, inputContentKeys });
  v.key = key;
  v.contentKey = contentKey;
  if (v.adapter.remoteKeys !== undefined) v.remoteKeys = await job.guard(v, async () => await v.adapter.remoteKeys?.(job.context(v)));
  if (v.adapter.provenance !== undefined) v.provenance = await job.guard(v, async () => await v.adapter.provenance?.(job.context(v)));
  job.opts.observeKey?.({ op: v.op, key, contentKey, remoteKeys: v.remoteKeys });
  if (job.lookupAllowed(v)) lookup(job, v, key);
  return key;
}

async function contentKeyOf(job: Job, v: Vertex): Promise<string | undefined> {
  const adapter = v.adapter;
  if (adapter.contentKey === undefined) return undefined;
  return job.guard(v, async () => {
    const release = await job.semaphore.acquire(job.signal);
    try {
      return await adapter.contentKey?.(job.context(v));
    } finally {
      release();
    }
  });
}

async function inputContentKeysOf(job: Job, v: Vertex): Promise<(string | undefined)[]> {
  const inputs = await inputsOf(job, v);
  return job.guard(v, () => Promise.all(inputs.map((input, i) => v.adapter.inputKey?.(i, input, job.context(v)))));
}

/** Reports v cached when the store has every output of its key. */
function lookup(job: Job, v: Vertex, key: Digest): void {
  const ids: string[] = [];
  for (let i = 0; i < v.op.outputs; i++) {
    const id = job.opts.store.lookup(key, i);
    if (id === undefined) return;
    ids.push(id);
  }
  v.cachedIds = ids;
  job.reportCached(v);
}

function materialise(job: Job, v: Vertex): Promise<void> {
  v.materialised ??= job.track(materialiseVertex(job, v));
  return v.materialised;
}

async function materialiseVertex(job: Job, v: Vertex): Promise<void> {
  await keyOf(job, v);
  if (v.cachedIds !== undefined && (await load(job, v, v.cachedIds))) return;
  await run(job, v);
}

/** Loads v's cached results; false (a miss) when any of them is gone. */
async function load(job: Job, v: Vertex, ids: readonly string[]): Promise<boolean> {
  const refs = await job.guard(v, () => Promise.all(ids.map((id) => job.opts.loadResult(id))));
  const loaded = refs.filter((r): r is ResultRef => r !== undefined);
  if (loaded.length < refs.length) {
    await Promise.allSettled(loaded.map((r) => r.release()));
    v.cachedIds = undefined;
    return false;
  }
  job.opts.store.touch(ids);
  job.own(v, loaded.map(share));
  job.settle(v);
  return true;
}

/** Holds on v's inputs, one per op input, once every input vertex is materialised. */
function inputsOf(job: Job, v: Vertex): Promise<Handle[]> {
  v.inputsPromise ??= job.track(
    (async () => {
      await Promise.all(v.inputs.map((d) => materialise(job, job.vertex(d))));
      v.inputHandles = v.op.inputs.map((input) => job.retain(job.vertex(input.digest), input.index));
      return v.inputHandles;
    })(),
  );
  return v.inputsPromise;
}

async function run(job: Job, v: Vertex): Promise<void> {
  const inputs = await inputsOf(job, v);
  const key = v.key as Digest;
  if (await lateHit(job, v, inputs)) return;
  const work = (ctx: WorkContext): Promise<ResultRef[]> => execute(job, v, inputs, ctx);
  const handles = await job.guard(v, () => job.opts.inflight.join(key, work, job.sink(v), job.signal));
  job.own(v, handles);
  job.reportCompleted(v);
  job.settle(v);
}

/** Asks lateLookup about a vertex that missed; true when it then loaded from the cache. */
async function lateHit(job: Job, v: Vertex, inputs: readonly ResultRef[]): Promise<boolean> {
  const late = job.opts.lateLookup;
  if (late === undefined || !job.lookupAllowed(v) || v.key === undefined) return false;
  const key = v.key;
  const lateInputs = v.op.inputs.map((input, i) => ({ ref: inputs[i]!, op: job.vertex(input.digest).op }));
  await job.guard(v, () => late({ op: v.op, key, contentKey: v.contentKey, remoteKeys: v.remoteKeys }, lateInputs));
  lookup(job, v, key);
  return v.cachedIds !== undefined && (await load(job, v, v.cachedIds));
}

/** The op itself, run once per key whoever joins: queue, run, check, record. */
async function execute(job: Job, v: Vertex, inputs: readonly ResultRef[], ctx: WorkContext): Promise<ResultRef[]> {
  const release = await job.semaphore.acquire(ctx.signal);
  try {
    ctx.begin();
    const refs = await v.adapter.exec(inputs, ctx);
    try {
      if (refs.length !== v.op.outputs) throw new BuildkitError("Internal", `running op: ${refs.length} results for ${v.op.outputs} outputs`);
      record(job, v, refs, inputs);
    } catch (err) {
      await Promise.allSettled(refs.map((r) => r.release()));
      throw err;
    }
    return refs;
  } finally {
    release();
  }
}

/**
 * What the cache index records as an op's kind: the op type ("exec", "file", …), and for a source
 * its scheme too ("source.local", "source.git", "source.docker-image"), which decides the record's
 * type for du and GC (a custom vertex name says nothing of where a source came from).
 */
function resultKind(op: Vertex["op"]): string {
  if (op.kind !== "source") return op.kind ?? "";
  const id = op.op.source?.identifier ?? "";
  const scheme = id.includes("://") ? id.slice(0, id.indexOf("://")) : "";
  return scheme ? `source.${scheme}` : "source";
}

function record(job: Job, v: Vertex, refs: readonly ResultRef[], inputs: readonly ResultRef[]): void {
  const key = v.key as Digest;
  const base = { description: v.name, kind: resultKind(v.op) };
  refs.forEach((ref, index) => {
    // A result may be one of its inputs (a copy of a whole snapshot onto scratch): not its own parent.
    const meta = { ...base, parents: inputs.map((i) => i.id).filter((id) => id !== ref.id) };
    job.opts.store.save(key, index, ref.id, ref.size === undefined ? meta : { ...meta, size: ref.size });
  });
}
