// Undo steps collected while a container is set up, run last-first whatever happened; every
// step runs even when an earlier one fails, and the failures are returned, not thrown.
import { unmountAll } from "../sys/mount.ts";

type Step = () => void | Promise<void>;

export class Cleanup {
  readonly #steps: Step[] = [];

  /** Adds a step to run before the ones already added. */
  defer(step: Step): void {
    this.#steps.push(step);
  }

  async run(): Promise<unknown[]> {
    const errors: unknown[] = [];
    for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    }
    return errors;
  }
}

/** Unmounts everything stacked on target, detaching it when a plain unmount fails (busy). */
export function unmountWithFallback(target: string): void {
  try {
    unmountAll(target);
  } catch {
    unmountAll(target, { detach: true });
  }
}
