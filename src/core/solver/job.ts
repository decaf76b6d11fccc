/**
 * One solve's state: its vertices (the ops reachable from the result), their progress events,
 * the holds on their results, the concurrency limit and the abort controller that cancels
 * everything in flight when one vertex fails. The scheduling itself is in scheduler.ts.
 */
import type { CacheStore } from "../cache/store.ts";
import type { Digest } from "../digest.ts";
import { BuildkitError } from "../errors.ts";
import { VertexTaggedError } from "../error-sources.ts";
import type { LoadedDefinition, LoadedOp } from "../llb/definition.ts";
import type { SourceProvenance } from "../provenance/capture.ts";
import type { ProgressWriter } from "../progress/events.ts";
import { canceled, type Handle, type Inflight, type JoinSink } from "./inflight.ts";
import { Semaphore } from "../semaphore.ts";
import type { KeyedVertex, LateInput } from "./scheduler.ts";
import type { OpAdapter, OpContext, OpResolver, ResultRef } from "./op.ts";
import { vertexNames } from "./vertex-name.ts";

export type VertexStatus = "pending" | "cached" | "running" | "completed" | "error" | "canceled";

export interface VertexSummary {
  readonly digest: Digest;
  readonly name: string;
  /** Undefined when the solve stopped before the key was known. */
  readonly cacheKey: Digest | undefined;
  /** A source's content key and BuildKit-compatible keys (see OpAdapter), when it has them. */
  readonly contentKey?: string;
  readonly remoteKeys?: readonly string[];
  /** A source's identity and pin (OpAdapter.provenance). */
  readonly provenance?: SourceProvenance;
  /** "skipped": not needed (below a cached vertex) or never reached (after a failure). */
  readonly status: Exclude<VertexStatus, "pending" | "running"> | "skipped";
  readonly started?: number;
  readonly completed?: number;
}

/** An op's failure, named after its vertex: `<vertex name>: <cause>`. */
export class VertexError extends VertexTaggedError {
  declare readonly vertex: Digest;
  readonly vertexName: string;

  constructor(vertex: Pick<Vertex, "digest" | "name">, cause: unknown) {
    const code = cause instanceof BuildkitError ? cause.code : "Internal";
    const message = cause instanceof Error ? cause.message : String(cause);
    super(code, `${vertex.name}: ${message}`, vertex.digest, { cause, unnamedMessage: message });
    this.name = "VertexError";
    this.vertexName = vertex.name;
  }
}

export interface Vertex {
  readonly digest: Digest;
  readonly op: LoadedOp;
  readonly name: string;
  /** Distinct input vertices. */
  readonly inputs: readonly Digest[];
  readonly adapter: OpAdapter;
  readonly ignoreCache: boolean;
  status: VertexStatus;
  started?: number;
  completed?: number;
  key?: Digest;
  contentKey?: string;
  remoteKeys?: readonly string[];
  provenance?: SourceProvenance;
  cachedIds?: readonly string[];
  /** Consumers (plus the caller, for the result) that may still need this vertex's outputs. */
  pending: number;
  settled: boolean;
  /** The job's holds on the outputs once materialised. */
  owned?: Handle[];
  inputHandles?: Handle[];
  keyPromise?: Promise<Digest>;
  materialised?: Promise<void>;
  inputsPromise?: Promise<Handle[]>;
}

export interface JobOptions {
  readonly resolve: OpResolver;
  readonly store: CacheStore;
  readonly progress: ProgressWriter;
  readonly inflight: Inflight;
  readonly concurrency: number;
  readonly noCache: boolean;
  loadResult(id: string): Promise<ResultRef | undefined>;
  observeKey?(v: KeyedVertex): void;
  lateLookup?(v: KeyedVertex, inputs: readonly LateInput[]): Promise<void>;
}

export class Job {
  readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  readonly semaphore: Semaphore;
  readonly opts: JobOptions;
  readonly #vertices = new Map<Digest, Vertex>();
  readonly #tasks = new Set<Promise<unknown>>();
  readonly #releases: Promise<void>[] = [];
  #firstError: VertexError | undefined;

  constructor(def: LoadedDefinition, root: Digest, opts: JobOptions) {
    this.opts = opts;
    this.semaphore = new Semaphore(opts.concurrency);
    const names = vertexNames(def);
    for (const digest of reachable(def, root)) this.#vertices.set(digest, this.#newVertex(def, digest, names.get(digest) ?? "unknown"));
    for (const v of this.#vertices.values()) for (const d of v.inputs) this.vertex(d).pending++;
    this.vertex(root).pending++; // the caller
  }

  #newVertex(def: LoadedDefinition, digest: Digest, name: string): Vertex {
    const op = def.ops.get(digest) as LoadedOp;
    const inputs = [...new Set(op.inputs.map((i) => i.digest))];
    let adapter: OpAdapter;
    try {
      adapter = this.opts.resolve(op, def);
    } catch (err) {
      const error = new VertexError({ digest, name }, err);
      this.opts.progress.write({ type: "vertex", digest, name, inputs, completed: Date.now(), error: error.message });
      throw error;
    }
    return { digest, op, name, inputs, adapter, ignoreCache: op.ignoreCache, status: "pending", pending: 0, settled: false };
  }

  get firstError(): VertexError | undefined {
    return this.#firstError;
  }

  vertex(digest: Digest): Vertex {
    const v = this.#vertices.get(digest);
    if (v === undefined) throw new BuildkitError("Internal", `solving: no vertex ${digest}`);
    return v;
  }

  vertices(): IterableIterator<Vertex> {
    return this.#vertices.values();
  }

  /** Whether the store may answer for v. */
  lookupAllowed(v: Vertex): boolean {
    return !this.opts.noCache && !v.ignoreCache;
  }

  /** Keeps track of a promise (and marks its rejection handled); `drain` waits for all of them. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.#tasks.add(promise);
    const forget = (): void => void this.#tasks.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  async drain(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  /** Runs fn, turning its failure into this vertex's error (or Canceled when the job stopped). */
  async guard<T>(v: Vertex, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.failed(v, err);
    }
  }

  failed(v: Vertex, err: unknown): BuildkitError {
    if (this.signal.aborted) {
      if (v.status === "running") this.#report(v, { status: "canceled", completed: Date.now() }, { error: "canceled", canceled: true });
      if (v.status === "pending") v.status = "canceled";
      return canceled();
    }
    const error = new VertexError(v, err);
    this.#report(v, { status: "error", completed: Date.now() }, { error: error.message });
    this.#firstError ??= error;
    this.controller.abort(error);
    return error;
  }

  context(v: Vertex): OpContext {
    return { signal: this.signal, progress: this.sink(v) };
  }

  sink(v: Vertex): JoinSink {
    const statusStarted = new Map<string, number>();
    const write = this.opts.progress.write.bind(this.opts.progress);
    return {
      started: () => this.#report(v, { status: "running", started: Date.now() }),
      log: (stream, data) => write({ type: "log", vertex: v.digest, stream, data, time: Date.now() }),
      status: (id, current, total, done) => {
        const now = Date.now();
        const started = statusStarted.get(id) ?? now;
        statusStarted.set(id, started);
        write({ type: "status", vertex: v.digest, id, current, started, ...(total === undefined ? {} : { total }), ...(done ? { completed: now } : {}) });
      },
    };
  }

  reportCached(v: Vertex): void {
    const now = Date.now();
    this.#report(v, { status: "cached", started: now, completed: now }, { cached: true });
  }

  reportCompleted(v: Vertex): void {
    this.#report(v, { status: "completed", completed: Date.now() });
  }

  #report(v: Vertex, change: Pick<Vertex, "status" | "started" | "completed">, extra: { cached?: boolean; error?: string; canceled?: boolean } = {}): void {
    v.status = change.status;
    if (change.started !== undefined) v.started = change.started;
    if (change.completed !== undefined) v.completed = change.completed;
    // A vertex reported cached whose result turned out to be gone runs after all: it is no
    // longer completed.
    else if (change.status === "running") v.completed = undefined;
    const times = { ...(v.started === undefined ? {} : { started: v.started }), ...(v.completed === undefined ? {} : { completed: v.completed }) };
    this.opts.progress.write({ type: "vertex", digest: v.digest, name: v.name, inputs: v.inputs, ...times, ...extra });
  }

  /** Records the job's holds on v's outputs. */
  own(v: Vertex, handles: Handle[]): void {
    v.owned = handles;
  }

  /** A new hold on output `index` of v, which must be materialised and still held. */
  retain(v: Vertex, index: number): Handle {
    const handle = v.owned?.[index];
    if (handle === undefined) throw new BuildkitError("Internal", `solving: output ${index} of ${v.name} is not held`);
    return handle.retain();
  }

  /** v needs its inputs no more: drop its input holds, and each input's own once unneeded. */
  settle(v: Vertex): void {
    if (v.settled) return;
    v.settled = true;
    this.#drop(v.inputHandles);
    v.inputHandles = undefined;
    for (const d of v.inputs) {
      const input = this.vertex(d);
      if (--input.pending === 0) this.#dropOwned(input);
    }
  }

  /** The caller's settle of the result: called once its own hold is taken. */
  settleCaller(root: Vertex): void {
    if (--root.pending === 0) this.#dropOwned(root);
  }

  /** Drops every hold the job still has (after drain) and waits for the releases. */
  async releaseAll(): Promise<void> {
    for (const v of this.#vertices.values()) {
      this.#drop(v.inputHandles);
      v.inputHandles = undefined;
      this.#dropOwned(v);
    }
    await Promise.allSettled(this.#releases);
  }

  #dropOwned(v: Vertex): void {
    this.#drop(v.owned);
    v.owned = undefined;
  }

  #drop(handles: readonly Handle[] | undefined): void {
    for (const h of handles ?? []) this.#releases.push(h.release());
  }

  summary(): VertexSummary[] {
    return [...this.#vertices.values()].map((v) => ({
      digest: v.digest, name: v.name, cacheKey: v.key, contentKey: v.contentKey, remoteKeys: v.remoteKeys, provenance: v.provenance,
      status: v.status === "pending" || v.status === "running" ? "skipped" : v.status,
      started: v.started, completed: v.completed,
    }));
  }
}

/** The ops the result depends on (and the result's op), inputs first. */
function reachable(def: LoadedDefinition, root: Digest): Digest[] {
  const needed = new Set<Digest>([root]);
  const order = def.order.filter((d) => d !== def.terminal?.digest);
  for (let i = order.length - 1; i >= 0; i--) {
    const d = order[i] as Digest;
    if (needed.has(d)) for (const input of def.ops.get(d)?.inputs ?? []) needed.add(input.digest);
  }
  return order.filter((d) => needed.has(d));
}
