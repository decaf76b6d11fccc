import { BuildkitError } from "../../core/errors.ts";

/** Builds that may use copies of one client directory at once; more wait for a free copy. */
const SLOTS_PER_MIRROR = 4;

/**
 * Mirror copies of client directories, one build at a time per copy: a build syncs its copy and
 * then reads it (checksum, copy into a snapshot) until it ends, so simultaneous builds of the
 * same directory each get their own copy (kept for their later builds' incremental transfer)
 * instead of waiting for one another.
 */
export class MirrorLocks {
  readonly #busy = new Set<string>();
  readonly #queue: { key: string; grant: (slot: number) => void }[] = [];

  /** A free copy of key's mirror: its slot number and the function that frees it. */
  async acquire(key: string, signal: AbortSignal): Promise<{ slot: number; release: () => void }> {
    const slot = this.#free(key) ?? (await this.#wait(key, signal));
    this.#busy.add(`${key}#${slot}`);
    let released = false;
    return {
      slot,
      release: () => {
        if (released) return;
        released = true;
        this.#busy.delete(`${key}#${slot}`);
        const next = this.#queue.findIndex((w) => w.key === key);
        if (next >= 0) this.#queue.splice(next, 1)[0]?.grant(slot);
      },
    };
  }

  #free(key: string): number | undefined {
    for (let slot = 0; slot < SLOTS_PER_MIRROR; slot++) if (!this.#busy.has(`${key}#${slot}`)) return slot;
    return undefined;
  }

  #wait(key: string, signal: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const at = this.#queue.indexOf(waiter);
        if (at >= 0) this.#queue.splice(at, 1);
        reject(new BuildkitError("Canceled", "waiting for a copy of the local directory: canceled"));
      };
      const waiter = {
        key,
        grant: (slot: number) => {
          signal.removeEventListener("abort", onAbort);
          resolve(slot);
        },
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }
}
