// Fake ops for scheduler tests: in-memory results, per-vertex delay, failure, logs and content
// keys, and a record of every call (start and end times, whether the signal fired).
import type { Digest } from "../../../src/core/digest.ts";
import { loadDefinition, type LoadedDefinition } from "../../../src/core/llb/definition.ts";
import { expect } from "bun:test";
import { openCacheStore, type CacheStore } from "../../../src/core/cache/store.ts";
import { BuildkitError } from "../../../src/core/errors.ts";
import { image, LINUX_AMD64, type State } from "../../../src/core/llb/index.ts";
import { solve, type SolveOptions, type SolveResult } from "../../../src/core/solver/scheduler.ts";
import type { ProgressEvent, ProgressWriter } from "../../../src/core/progress/events.ts";
import type { OpAdapter, OpContext, OpResolver, ResultRef } from "../../../src/core/solver/op.ts";
import { vertexNames } from "../../../src/core/solver/vertex-name.ts";

export interface Behavior {
  delayMs?: number;
  /** Throw this message after the delay. */
  fail?: string;
  /** Never finish unless aborted. */
  hang?: boolean;
  /** Written to stdout before the delay. */
  logs?: string[];
  contentKey?: string;
}

export interface Call {
  readonly name: string;
  readonly start: number;
  end?: number;
  aborted?: boolean;
  readonly inputs: readonly string[];
}

/** Results kept in memory, like a snapshotter: ids, and how many holds are live. */
export class FakeResults {
  readonly data = new Set<string>();
  holds = 0;
  #next = 0;

  create(name: string): ResultRef {
    const id = `result-${++this.#next}-${name.replace(/\W+/g, "_").slice(0, 20)}`;
    this.data.add(id);
    return this.ref(id);
  }

  ref(id: string): ResultRef {
    this.holds++;
    let released = false;
    return {
      id,
      release: async () => {
        if (released) return;
        released = true;
        this.holds--;
      },
    };
  }

  load = async (id: string): Promise<ResultRef | undefined> => (this.data.has(id) ? this.ref(id) : undefined);
}

export class FakeOps {
  readonly behaviors = new Map<string, Behavior>();
  readonly calls: Call[] = [];
  readonly contentKeyCalls: string[] = [];
  readonly results = new FakeResults();
  running = 0;
  maxRunning = 0;

  constructor(behaviors: Record<string, Behavior> = {}) {
    for (const [name, b] of Object.entries(behaviors)) this.behaviors.set(name, b);
  }

  execCount(name: string): number {
    return this.calls.filter((c) => c.name === name).length;
  }

  call(name: string): Call {
    const call = this.calls.find((c) => c.name === name);
    if (call === undefined) throw new Error(`no call of ${name}`);
    return call;
  }

  resolve: OpResolver = (op, def) => {
    const name = vertexNames(def).get(op.digest) ?? "?";
    const behavior = (): Behavior => this.behaviors.get(name) ?? {};
    const adapter: OpAdapter = {
      exec: (inputs, ctx) => this.#exec(name, op.outputs, inputs, ctx, behavior()),
    };
    if (op.op.op === "source") {
      adapter.contentKey = async () => {
        this.contentKeyCalls.push(name);
        return behavior().contentKey;
      };
    }
    return adapter;
  };

  async #exec(name: string, outputs: number, inputs: readonly ResultRef[], ctx: OpContext, b: Behavior): Promise<ResultRef[]> {
    const call: Call = { name, start: performance.now(), inputs: inputs.map((i) => i.id) };
    this.calls.push(call);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      for (const line of b.logs ?? []) ctx.progress.log(1, new TextEncoder().encode(line));
      ctx.progress.status("work", 0, 1);
      await sleep(b.hang ? 1e9 : (b.delayMs ?? 0), ctx.signal, call);
      ctx.progress.status("work", 1, 1, true);
      if (b.fail !== undefined) throw new Error(b.fail);
      return Array.from({ length: outputs }, () => this.results.create(name));
    } finally {
      call.end = performance.now();
      this.running--;
    }
  }
}

function sleep(ms: number, signal: AbortSignal, call: Call): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      call.aborted = true;
      reject(new Error("aborted"));
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      call.aborted = true;
      reject(new Error("aborted"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export class RecordingProgress implements ProgressWriter {
  readonly events: ProgressEvent[] = [];
  write(e: ProgressEvent): void {
    this.events.push(e);
  }
  async close(): Promise<void> {}

  /** A vertex's events after the announcement every vertex gets at the start of a solve. */
  vertexEvents(digest: Digest): Extract<ProgressEvent, { type: "vertex" }>[] {
    return this.events.filter((e): e is Extract<ProgressEvent, { type: "vertex" }> => e.type === "vertex" && e.digest === digest && !isAnnouncement(e));
  }

  /** The pending-vertex announcements, in order. */
  announced(): Digest[] {
    return this.events.filter((e): e is Extract<ProgressEvent, { type: "vertex" }> => e.type === "vertex" && isAnnouncement(e)).map((e) => e.digest);
  }
}

function isAnnouncement(e: Extract<ProgressEvent, { type: "vertex" }>): boolean {
  return e.started === undefined && e.completed === undefined;
}

export function load(state: State): LoadedDefinition {
  return loadDefinition(state.marshal({ platform: LINUX_AMD64 }));
}

/** Digest of the vertex with this name. */
export function digestOf(def: LoadedDefinition, name: string): Digest {
  for (const [digest, n] of vertexNames(def)) if (n === name) return digest;
  throw new Error(`no vertex named ${name}`);
}

export const IMAGE = "docker-image://docker.io/library/busybox:latest";
export const busybox = image("docker.io/library/busybox:latest");
const stores: CacheStore[] = [];

export function closeStores(): void {
  for (const s of stores.splice(0)) s.close();
}

export function memoryStore(): CacheStore {
  const store = openCacheStore(":memory:");
  stores.push(store);
  return store;
}

export function chain(...steps: string[]): State {
  return steps.reduce<State>((st, step) => st.run({ shlex: step }).root(), busybox);
}

export interface Run {
  def: LoadedDefinition;
  res: SolveResult;
  progress: RecordingProgress;
}

export async function run(state: State | LoadedDefinition, ops: FakeOps, store: CacheStore, opts: Partial<SolveOptions> = {}): Promise<Run> {
  const def = "ops" in state ? state : load(state);
  const progress = new RecordingProgress();
  const res = await solve(def, { resolve: ops.resolve, store, progress, loadResult: ops.results.load, ...opts });
  return { def, res, progress };
}

export async function failure(promise: Promise<unknown>): Promise<BuildkitError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(BuildkitError);
    return err as BuildkitError;
  }
  throw new Error("expected the solve to fail");
}

