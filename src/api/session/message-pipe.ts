/**
 * Two connected in-memory {@link MessageStream}s: what one sends the other receives. For an
 * in-process session (daemonless builds, tests). A send resolves once the peer's queue is below
 * `highWater` messages, so a fast side is held back as a transport would hold it.
 */
import { BuildkitError } from "../../core/errors.ts";
import type { MessageStream } from "./session.ts";

export interface MessagePipe<A, B> {
  /** Receives A, sends B. */
  readonly left: MessageStream<A, B>;
  /** Receives B, sends A. */
  readonly right: MessageStream<B, A>;
  /** Breaks both sides: pending and later recv() and send() reject with `error`. */
  abort(error: unknown): void;
}

export function createMessagePipe<A, B>(opts: { highWater?: number; signal?: AbortSignal } = {}): MessagePipe<A, B> {
  const abort = new AbortController();
  const highWater = opts.highWater ?? 64;
  const toLeft = new Channel<A>(highWater, abort.signal);
  const toRight = new Channel<B>(highWater, abort.signal);
  const fail = (error: unknown) => {
    if (!abort.signal.aborted) abort.abort(error);
  };
  opts.signal?.addEventListener("abort", () => fail(new BuildkitError("Canceled", "session call canceled")), { once: true });
  return {
    left: endpoint(toLeft, toRight, abort.signal),
    right: endpoint(toRight, toLeft, abort.signal),
    abort: fail,
  };
}

function endpoint<In, Out>(incoming: Channel<In>, outgoing: Channel<Out>, signal: AbortSignal): MessageStream<In, Out> {
  return {
    recv: () => incoming.take(),
    send: (message) => outgoing.put(message),
    end: () => outgoing.close(),
    signal,
  };
}

/** One direction: a queue with an end and a failure. */
class Channel<T> {
  readonly #items: T[] = [];
  readonly #highWater: number;
  readonly #signal: AbortSignal;
  #ended = false;
  #readers: (() => void)[] = [];
  #writers: (() => void)[] = [];

  constructor(highWater: number, signal: AbortSignal) {
    this.#highWater = highWater;
    this.#signal = signal;
    signal.addEventListener("abort", () => this.#wakeAll(), { once: true });
  }

  async put(item: T): Promise<void> {
    if (this.#signal.aborted) throw this.#signal.reason;
    if (this.#ended) throw new BuildkitError("FailedPrecondition", "sending on a session stream: already ended");
    this.#items.push(item);
    this.#wake(this.#readers);
    while (this.#items.length > this.#highWater && !this.#signal.aborted) {
      await new Promise<void>((resolve) => this.#writers.push(resolve));
    }
  }

  close(): void {
    this.#ended = true;
    this.#wake(this.#readers);
  }

  async take(): Promise<T | undefined> {
    for (;;) {
      if (this.#signal.aborted) throw this.#signal.reason;
      if (this.#items.length > 0) {
        const item = this.#items.shift() as T;
        if (this.#items.length <= this.#highWater) this.#wake(this.#writers);
        return item;
      }
      if (this.#ended) return undefined;
      await new Promise<void>((resolve) => this.#readers.push(resolve));
    }
  }

  #wake(waiters: (() => void)[]): void {
    for (const wake of waiters.splice(0)) wake();
  }

  #wakeAll(): void {
    this.#wake(this.#readers);
    this.#wake(this.#writers);
  }
}
