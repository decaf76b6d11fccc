// The one concurrency limiter: the solver caps ops running at once with it, and eachLimited
// runs a list through it (blob pushes).
import { BuildkitError } from "./errors.ts";

const canceled = () => new BuildkitError("Canceled", "canceled");

/** At most `limit` holders at a time, served in the order they asked; waiting is abortable. */
export class Semaphore {
  #free: number;
  readonly #queue: (() => void)[] = [];

  constructor(limit: number) {
    this.#free = Math.max(1, limit);
  }

  async acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) throw canceled();
    if (this.#free > 0) {
      this.#free--;
      return this.#releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.#queue.splice(this.#queue.indexOf(grant), 1);
        reject(canceled());
      };
      this.#queue.push(grant);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    return this.#releaser();
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next) next();
      else this.#free++;
    };
  }
}

/**
 * Runs fn over items, at most `limit` at once, starting them in order; the first failure stops
 * further starts and is what this rejects with (runs already started finish on their own).
 */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const slots = new Semaphore(limit);
  const stop = new AbortController();
  await Promise.all(
    items.map(async (item) => {
      const release = await slots.acquire(stop.signal);
      try {
        await fn(item);
      } catch (err) {
        stop.abort();
        throw err;
      } finally {
        release();
      }
    }),
  );
}
