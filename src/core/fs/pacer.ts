/**
 * Long synchronous stretches (lstat and read loops over thousands of files) yield to the event
 * loop now and then, so that progress, gRPC and other builds keep moving; `tick` also notices
 * cancellation.
 */
import { BuildkitError } from "../errors.ts";

/** Longest stretch of synchronous work before yielding to the event loop. */
const SLICE_MS = 20;

export class Pacer {
  readonly #signal: AbortSignal | undefined;
  readonly #what: string;
  #since = performance.now();

  /** `what` names the work in the Canceled error: "walking /src". */
  constructor(what: string, signal: AbortSignal | undefined) {
    this.#what = what;
    this.#signal = signal;
  }

  /** Returns a promise only when it is time to yield: `const p = pacer.tick(); if (p) await p;`. */
  tick(): Promise<void> | undefined {
    if (performance.now() - this.#since < SLICE_MS) return undefined;
    return this.#yield();
  }

  async #yield(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.#since = performance.now();
    this.check();
  }

  check(): void {
    if (this.#signal?.aborted) throw new BuildkitError("Canceled", `${this.#what}: canceled`, { cause: this.#signal.reason });
  }
}
