/**
 * Shared results and in-flight work. A Handle is one hold on a result that several holders may
 * share (a vertex's own output, its consumers' inputs, the caller's final result): the op's
 * ResultRef is released when the last handle is. Inflight runs work once per cache key among all
 * the jobs that want it at the same time; each joiner gets handles of its own, and the work is
 * aborted only when every joiner has gone.
 */
import { BuildkitError } from "../errors.ts";
import type { OpContext, OpProgress, ResultRef } from "./op.ts";

export function canceled(): BuildkitError {
  return new BuildkitError("Canceled", "canceled");
}

class Shared {
  #holders = 0;
  constructor(readonly ref: ResultRef) {}

  hold(): Handle {
    this.#holders++;
    return new Handle(this);
  }

  drop(): Promise<void> {
    return --this.#holders === 0 ? this.ref.release() : Promise.resolve();
  }
}

/** One hold on a shared result; `retain` adds another hold, `release` drops this one (once). */
export class Handle implements ResultRef {
  readonly #shared: Shared;
  #released = false;

  constructor(shared: Shared) {
    this.#shared = shared;
  }

  get id(): string {
    return this.#shared.ref.id;
  }

  retain(): Handle {
    if (this.#released) throw new BuildkitError("Internal", `retaining result ${this.id}: already released`);
    return this.#shared.hold();
  }

  release(): Promise<void> {
    if (this.#released) return Promise.resolve();
    this.#released = true;
    return this.#shared.drop();
  }
}

/** The first hold on a result. */
export function share(ref: ResultRef): Handle {
  return new Shared(ref).hold();
}

/** A joiner's view of shared work: told when it starts running, and given its logs. */
export interface JoinSink extends OpProgress {
  started(): void;
}

/** What the work gets: its context, and `begin` to call once it really starts (after queuing). */
export interface WorkContext extends OpContext {
  begin(): void;
}

class Entry {
  readonly controller = new AbortController();
  readonly sinks = new Set<JoinSink>();
  joiners = 0;
  begun = false;
  readonly done: Promise<Handle[]>;

  constructor(work: (ctx: WorkContext) => Promise<ResultRef[]>) {
    this.done = work(this.#context()).then((refs) => refs.map(share));
    this.done.catch(() => undefined);
  }

  #context(): WorkContext {
    return {
      signal: this.controller.signal,
      begin: () => {
        this.begun = true;
        for (const sink of this.sinks) sink.started();
      },
      progress: {
        log: (stream, data) => {
          for (const sink of this.sinks) sink.log(stream, data);
        },
        status: (id, current, total, done) => {
          for (const sink of this.sinks) sink.status(id, current, total, done);
        },
      },
    };
  }
}

export class Inflight {
  readonly #entries = new Map<string, Entry>();
  /** Work whose last joiner left: aborted, but its clean-up (containers, mounts) may still run. */
  readonly #stopping = new Set<Promise<unknown>>();

  /** How many keys have work in flight. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Joins the work for key, starting it when nobody runs it yet. Resolves to this joiner's own
   * handles; rejects with the work's error, or Canceled when `signal` fires first.
   */
  async join(key: string, work: (ctx: WorkContext) => Promise<ResultRef[]>, sink: JoinSink, signal: AbortSignal): Promise<Handle[]> {
    if (signal.aborted) throw canceled();
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = new Entry(work);
      this.#entries.set(key, entry);
    }
    entry.joiners++;
    entry.sinks.add(sink);
    if (entry.begun) sink.started();
    try {
      const shared = await untilAborted(entry.done, signal);
      return shared.map((h) => h.retain());
    } finally {
      entry.sinks.delete(sink);
      if (--entry.joiners === 0) this.#abandon(key, entry);
    }
  }

  /** The last joiner left: forget the entry, stop the work if it still runs, drop its holds. */
  #abandon(key: string, entry: Entry): void {
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
    entry.controller.abort(canceled());
    const stopped = entry.done.then(
      (handles) => Promise.all(handles.map((h) => h.release())),
      () => undefined,
    );
    this.#stopping.add(stopped);
    void stopped.finally(() => this.#stopping.delete(stopped));
  }

  /** Resolves when all abandoned work has finished stopping (so nothing is left running or mounted). */
  async quiesce(): Promise<void> {
    while (this.#stopping.size > 0) await Promise.allSettled([...this.#stopping]);
  }
}

/** Settles like promise, or rejects with Canceled as soon as signal fires. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(canceled());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(canceled());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
