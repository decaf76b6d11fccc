import { canceled } from "./inflight.ts";

/** At most `limit` holders at a time; waiting is abortable. */
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
