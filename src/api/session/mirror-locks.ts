import { BuildkitError } from "../../core/errors.ts";

/**
 * One build at a time per client-directory mirror: a build syncs the mirror and then reads it
 * (checksum, copy into a snapshot), so another build's sync must wait until it is done.
 */
export class MirrorLocks {
  readonly #tails = new Map<string, Promise<void>>();

  /** Resolves with the release function once the lock on key is held. */
  async acquire(key: string, signal: AbortSignal): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    let released = false;
    const once = () => {
      if (!released) {
        released = true;
        release();
      }
    };
    try {
      await new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const onAbort = () => reject(new BuildkitError("Canceled", "waiting for the local directory: canceled"));
        signal.addEventListener("abort", onAbort, { once: true });
        previous.then(() => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    } catch (err) {
      once(); // let the next waiter through once ours would have run
      throw err;
    }
    return once;
  }
}
