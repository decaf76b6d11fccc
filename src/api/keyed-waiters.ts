/**
 * Callers waiting for something to appear under a key (a build by ref, a session by id), for a
 * bounded time: BuildKit's clients open a build's calls concurrently, so one may name what
 * another has not created yet.
 */
export class KeyedWaiters<T> {
  readonly #waiters = new Map<string, Set<(value: T) => void>>();

  /** Resolves with the value given to wake(key), or undefined after ms or when signal fires. */
  wait(key: string, signal: AbortSignal, ms: number): Promise<T | undefined> {
    return new Promise((resolve) => {
      const set = this.#waiters.get(key) ?? new Set();
      this.#waiters.set(key, set);
      const done = (value: T | undefined) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        set.delete(wake);
        if (set.size === 0 && this.#waiters.get(key) === set) this.#waiters.delete(key);
        resolve(value);
      };
      const wake = (value: T) => done(value);
      const onAbort = () => done(undefined);
      const timer = setTimeout(() => done(undefined), ms);
      set.add(wake);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  wake(key: string, value: T): void {
    for (const wake of [...(this.#waiters.get(key) ?? [])]) wake(value);
  }

  /** Answers every waiter now, with nothing. */
  giveUp(): void {
    for (const set of [...this.#waiters.values()]) for (const wake of [...set]) wake(undefined as T);
  }
}
