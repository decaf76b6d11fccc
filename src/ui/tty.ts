import { safeLog, safeName } from "./sanitize.ts";
import type { Digest } from "../core/digest.ts";
import { createProgressState } from "../core/progress/collector.ts";
import type { ProgressState, VertexState } from "../core/progress/collector.ts";
import type { ProgressEvent, ProgressWriter } from "../core/progress/events.ts";
import { createLogKeeper } from "./tty/logs.ts";
import type { LogKeeper } from "./tty/logs.ts";
import { createRateTracker } from "./tty/rates.ts";
import type { RateTracker } from "./tty/rates.ts";
import type { Layout } from "./tty/renderer.ts";
import { headerLine, rowState } from "./tty/rows.ts";
import type { Outcome } from "./tty/rows.ts";
import { Screen } from "./tty/screen.ts";
import { noColorFromEnv, palette } from "./tty/text.ts";
import { TaskTree } from "./tty/tree.ts";
import type { TreeView } from "./tty/tree.ts";

/**
 * `--progress=tty`: the build as a live listr2 task tree (see docs/progress-tty.md).
 *
 *   [+] Building 3.4s (4/6)
 *   ✔ local://context                                        CACHED
 *   ❯ RUN apk add curl                                          2.1s
 *     › fetch https://dl-cdn.alpinelinux.org/…
 *     ⠙ sha256:3f4ca6b7 12.30MB / 45.60MB 8.10MB/s               1.5s
 *
 * One row per vertex in start order with its state and duration, a subrow per status (bytes and
 * rate), the last `logLines` log lines under running steps. Frames are drawn at most every
 * `refreshMs` (the first one only after `refreshMs`, so a fast build prints just its final tree),
 * only while something runs or after an event, and only when they differ from the last. On close
 * the whole tree is printed once more, then the full logs of each failed step.
 */
export interface TTYStream {
  write(s: string): unknown;
  readonly columns?: number;
  readonly rows?: number;
  readonly isTTY?: boolean;
  on?(event: "resize", listener: () => void): unknown;
  off?(event: "resize", listener: () => void): unknown;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

export interface TTYDisplayOptions {
  readonly now?: () => number;
  /** Minimum time between two frames; default 100 ms. */
  readonly refreshMs?: number;
  /** Default: from NO_COLOR in the environment. */
  readonly noColor?: boolean;
  /** Log lines shown under a running step; default 4. */
  readonly logLines?: number;
  /** For tests; default the global setTimeout/clearTimeout. */
  readonly timers?: Timers;
}

export { shouldUseTTY, type ProgressMode } from "./tty-mode.ts";

export function createTTYDisplay(out: TTYStream, opts: TTYDisplayOptions = {}): ProgressWriter {
  return new TTYDisplay(out, opts);
}

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

class TTYDisplay implements ProgressWriter {
  readonly #out: TTYStream;
  readonly #now: () => number;
  readonly #refreshMs: number;
  readonly #timers: Timers;
  readonly #layout: Layout;
  readonly #state: ProgressState;
  readonly #tree: TaskTree;
  readonly #screen: Screen;
  readonly #rates: RateTracker = createRateTracker();
  readonly #logs: LogKeeper = createLogKeeper();
  readonly #started: number;
  readonly #onResize = (): void => this.#schedule();
  #lastFrame: number;
  /** The time the header shows. */
  #clock: number;
  #timer: unknown;
  #closed = false;

  constructor(out: TTYStream, opts: TTYDisplayOptions) {
    this.#out = out;
    this.#now = opts.now ?? Date.now;
    this.#refreshMs = opts.refreshMs ?? 100;
    this.#timers = opts.timers ?? defaultTimers;
    const logLines = opts.logLines ?? 4;
    this.#layout = { columns: 80, palette: palette(opts.noColor ?? noColorFromEnv(process.env)) };
    // More than shown: blank lines are left out of the rows.
    this.#state = createProgressState({ logTailLines: Math.max(16, logLines * 4) });
    this.#tree = new TaskTree(this.#layout, { logLines });
    this.#screen = new Screen(out, { onForeignWrite: () => this.#schedule() });
    this.#started = this.#now();
    this.#lastFrame = this.#started;
    this.#clock = this.#started;
    out.on?.("resize", this.#onResize);
  }

  write(e: ProgressEvent): void {
    if (this.#closed) return;
    this.#state.apply(e);
    switch (e.type) {
      case "log":
        this.#logs.add(e.vertex, e.data);
        break;
      case "status":
        this.#rates.observe(`${e.vertex} ${e.id}`, e.current, this.#now());
        this.#syncVertex(e.vertex);
        break;
      case "vertex":
        if (e.completed !== undefined && e.error === undefined && e.canceled !== true) this.#logs.drop(e.digest);
        this.#syncVertex(e.digest);
        break;
      case "warning":
        this.#syncVertex(e.vertex);
        break;
      default:
        assertNever(e);
    }
    this.#schedule();
  }

  /** Gives a new vertex or status its task at once, so that it is ready by the next frame. */
  #syncVertex(digest: Digest): void {
    const v = this.#state.get(digest);
    if (v !== undefined && !this.#tree.has(v)) this.#tree.sync(this.#view([v]));
  }

  async close(err?: Error): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#out.off?.("resize", this.#onResize);
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    const failed = this.#state.vertices().some((v) => rowState(v) === "error");
    this.#sync();
    await this.#tree.ready();
    this.#sync();
    this.#screen.finish(this.#frame(err !== undefined || failed ? "ERROR" : "FINISHED"));
    this.#printFailedLogs();
  }

  /** A frame is due `refreshMs` after the last one; events until then share it. */
  #schedule(): void {
    if (this.#closed || this.#timer !== undefined) return;
    const wait = Math.max(0, this.#lastFrame + this.#refreshMs - this.#now());
    this.#timer = this.#timers.setTimeout(() => this.#tick(), wait);
  }

  #tick(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    this.#lastFrame = this.#now();
    this.#tree.spin();
    this.#sync();
    this.#screen.draw(this.#frame());
    // Running steps' times and spinners move: keep drawing while anything runs.
    if (this.#state.counts().running > 0) this.#schedule();
  }

  #sync(): void {
    this.#layout.columns = this.#screen.columns;
    this.#tree.sync(this.#view(this.#state.vertices()));
  }

  #view(vertices: readonly VertexState[]): TreeView {
    const now = this.#now();
    return { vertices, now, rate: (v: Digest, id: string) => this.#rates.rate(`${v} ${id}`, now) };
  }

  #frame(outcome?: Outcome): string[] {
    const counts = this.#state.counts();
    // While nothing runs the clock stands at the last completion, so an idle display stays still.
    if (outcome === undefined && counts.running > 0) this.#clock = this.#now();
    else if (outcome === undefined) this.#clock = Math.max(this.#clock, this.#lastCompletion() ?? this.#clock);
    else this.#clock = this.#now();
    const header = headerLine(counts, this.#clock - this.#started, { columns: this.#layout.columns, palette: this.#layout.palette, outcome });
    return [header, ...this.#tree.lines()];
  }

  #lastCompletion(): number | undefined {
    let last: number | undefined;
    for (const v of this.#state.vertices()) if (v.completed !== undefined && (last === undefined || v.completed > last)) last = v.completed;
    return last === undefined ? undefined : Math.max(last, this.#started);
  }

  /** After the tree, each failed step's whole output, framed as BuildKit frames it. */
  #printFailedLogs(): void {
    for (const v of this.#state.vertices()) {
      if (rowState(v) !== "error") continue;
      const text = this.#logs.text(v.digest);
      this.#out.write(`\n------\n > ${safeName(v.name)}:\n${text === "" ? "(no output)\n" : safeLog(text)}------\n`);
    }
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected progress event ${JSON.stringify(x)}`);
}
