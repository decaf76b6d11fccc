/**
 * A FIFO between a producer and a consumer loop: `next()` waits for an item (undefined once
 * closed and drained); `push()` waits while `limit` items are queued, so a fast producer is held
 * back (a Go channel with a buffer).
 */
export class AsyncQueue<T> {
  readonly #items: T[] = [];
  readonly #limit: number;
  #closed = false;
  #failure: { error: unknown } | undefined;
  #wakeConsumer: (() => void) | undefined;
  #wakeProducer: (() => void) | undefined;

  constructor(limit = Number.POSITIVE_INFINITY) {
    this.#limit = limit;
  }

  async push(item: T): Promise<void> {
    while (this.#items.length >= this.#limit && !this.#closed) {
      await new Promise<void>((resolve) => (this.#wakeProducer = resolve));
    }
    if (this.#closed) return;
    this.#items.push(item);
    this.#wake();
  }

  /** No more items; next() drains what is queued, then returns undefined. */
  close(): void {
    this.#closed = true;
    this.#wake();
    this.#wakeProducer?.();
  }

  /** Makes next() reject (once queued items are drained) and releases a waiting producer. */
  fail(error: unknown): void {
    this.#failure ??= { error };
    this.close();
  }

  async next(): Promise<T | undefined> {
    for (;;) {
      if (this.#items.length > 0) {
        const item = this.#items.shift() as T;
        const producer = this.#wakeProducer;
        this.#wakeProducer = undefined;
        producer?.();
        return item;
      }
      if (this.#failure) throw this.#failure.error;
      if (this.#closed) return undefined;
      await new Promise<void>((resolve) => (this.#wakeConsumer = resolve));
    }
  }

  #wake(): void {
    const consumer = this.#wakeConsumer;
    this.#wakeConsumer = undefined;
    consumer?.();
  }
}
