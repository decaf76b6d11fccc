import type { ProgressEvent, ProgressWriter } from "../../core/progress/events.ts";
import { addToStatus, type StatusBatch as StatusResponse } from "./status.ts";

/** Log bytes kept for a Status call that attaches late; older logs beyond it are not replayed. */
const REPLAY_LOG_BYTES = 8 << 20;
/** Events written within this window go out as one StatusResponse. */
const BATCH_MS = 50;

interface Subscriber {
  push(batch: StatusResponse): void;
  end(): void;
}

/**
 * One build's progress for Control.Status: events are batched into StatusResponses, kept for
 * replay (a Status call may attach after the build started, from another connection), and
 * fanned out to every attached stream. Ends when the build ends.
 */
export class ProgressHub implements ProgressWriter {
  readonly #history: StatusResponse[] = [];
  readonly #subscribers = new Set<Subscriber>();
  /** Told every batch, whole (the build history's log), before any trimming. */
  readonly #taps: ((batch: StatusResponse) => void)[] = [];
  #pending: StatusResponse | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #logBytes = 0;
  #closed = false;

  write(e: ProgressEvent): void {
    if (this.#closed) return;
    if (this.#pending === undefined) {
      this.#pending = { vertexes: [], statuses: [], logs: [], warnings: [] };
      this.#timer = setTimeout(() => this.#flush(), BATCH_MS);
    }
    addToStatus(this.#pending, e);
    if (e.type === "log") this.#logBytes += e.data.byteLength;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    for (const s of this.#subscribers) s.end();
    this.#subscribers.clear();
  }

  /** Calls fn with every batch from now on (the build's own record of its progress). */
  tap(fn: (batch: StatusResponse) => void): void {
    this.#taps.push(fn);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Every batch so far, then new ones as they come, until the build ends or signal fires. */
  async *subscribe(signal: AbortSignal): AsyncGenerator<StatusResponse> {
    const queue: StatusResponse[] = [...this.#history];
    let ended = this.#closed;
    let wake: (() => void) | undefined;
    const sub: Subscriber = {
      push: (b) => {
        queue.push(b);
        wake?.();
      },
      end: () => {
        ended = true;
        wake?.();
      },
    };
    const onAbort = () => sub.end();
    signal.addEventListener("abort", onAbort, { once: true });
    if (!ended) this.#subscribers.add(sub);
    try {
      for (;;) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (ended || signal.aborted) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#subscribers.delete(sub);
    }
  }

  #flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = undefined;
    if (batch === undefined) return;
    for (const tap of this.#taps) tap(batch);
    this.#history.push(batch);
    this.#trimReplay();
    for (const s of this.#subscribers) s.push(batch);
  }

  /** Drops the oldest logs from the replay history once it holds too many log bytes. */
  #trimReplay(): void {
    for (const batch of this.#history) {
      if (this.#logBytes <= REPLAY_LOG_BYTES) return;
      for (const l of batch.logs) this.#logBytes -= l.msg?.byteLength ?? 0;
      batch.logs = [];
    }
  }
}
