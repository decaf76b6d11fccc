import { BuildkitError } from "../../core/errors.ts";
import { KeyedWaiters } from "../keyed-waiters.ts";
import { ProgressHub } from "./progress-hub.ts";

/** How long a Status call waits for a build that has not started yet (BuildKit's clients race them). */
const ATTACH_WAIT_MS = 10_000;
/** How long a finished build's progress stays available to a Status call that attaches late. */
const KEEP_FINISHED_MS = 60_000;

/** One build the daemon runs for a Control.Solve call, known by the client's ref. */
export class Build {
  readonly ref: string;
  readonly progress = new ProgressHub();
  readonly controller = new AbortController();
  readonly #attachments = new Map<string, unknown>();
  readonly #attachWaiters = new KeyedWaiters<unknown>();

  constructor(ref: string) {
    this.ref = ref;
  }

  /** Per-build state of another part (the gateway's results), set by it. */
  attach(name: string, value: unknown): void {
    this.#attachments.set(name, value);
    this.#attachWaiters.wake(name, value);
  }

  /** The build is over: nobody waits for an attachment any more. */
  end(): void {
    this.#attachWaiters.giveUp();
  }

  detach(name: string): void {
    this.#attachments.delete(name);
  }

  /** An attachment, waiting a little for it: a client's calls may arrive before the build set it up. */
  async attachment(name: string, signal: AbortSignal, waitMs = ATTACH_WAIT_MS): Promise<unknown> {
    return this.#attachments.get(name) ?? (this.progress.closed ? undefined : await this.#attachWaiters.wait(name, signal, waitMs));
  }
}

/**
 * The builds running (and recently finished) by ref. Control.Status and the gateway's calls
 * name a build by ref, possibly before its Solve call arrived, so lookups wait a little.
 */
export class BuildRegistry {
  readonly #builds = new Map<string, Build>();
  readonly #waiters = new KeyedWaiters<Build>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  start(ref: string): Build {
    if (!ref) throw new BuildkitError("InvalidArgument", "solving: the request has no ref");
    const existing = this.#builds.get(ref);
    if (existing && !existing.progress.closed) throw new BuildkitError("AlreadyExists", `solving: build ${ref} is already running`);
    const build = new Build(ref);
    this.#builds.set(ref, build);
    this.#waiters.wake(ref, build);
    return build;
  }

  /** Marks a build finished: its progress ends, and it is forgotten after a while. */
  async finish(build: Build): Promise<void> {
    await build.progress.close();
    build.end();
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#builds.get(build.ref) === build) this.#builds.delete(build.ref);
    }, KEEP_FINISHED_MS);
    timer.unref?.();
    this.#timers.add(timer);
  }

  /** The build by ref, waiting up to a few seconds for it to start; undefined when it never does. */
  async get(ref: string, signal: AbortSignal, waitMs = ATTACH_WAIT_MS): Promise<Build | undefined> {
    const found = this.#builds.get(ref);
    if (found) return found;
    return this.#waiters.wait(ref, signal, waitMs);
  }

  /** Running builds. */
  running(): Build[] {
    return [...this.#builds.values()].filter((b) => !b.progress.closed);
  }

  /** Cancels every running build (daemon shutdown). */
  cancelAll(reason: Error): void {
    for (const b of this.running()) b.controller.abort(reason);
  }

  dispose(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
