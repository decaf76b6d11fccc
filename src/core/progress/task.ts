/**
 * A progress vertex of its own for work outside the solve: cache import and export, exports,
 * a frontend reading its Dockerfile or resolving base images. Statuses and log lines, started
 * when made, done (or failed) at the end.
 */
import { sha256, type Digest } from "../digest.ts";
import type { ProgressWriter } from "./events.ts";

export interface ProgressTask {
  readonly digest: Digest;
  status(id: string, current: number, total?: number, done?: boolean): void;
  /** A line on the vertex's stdout. */
  info(text: string): void;
  /** A `warning: ` line on the vertex's stderr. */
  warn(text: string): void;
  done(error?: unknown): void;
}

export interface TaskOptions {
  /** Vertices the task follows (an export follows the result's), for a trace's critical path. */
  readonly inputs?: readonly Digest[];
  /**
   * The vertex's digest when the task stands for a known one (the Dockerfile's local source,
   * which warnings name); default: a digest of its own.
   */
  readonly digest?: Digest;
}

export function startTask(progress: ProgressWriter, name: string, opts: TaskOptions = {}): ProgressTask {
  const digest = opts.digest ?? sha256(`task:${name}:${Date.now()}:${Math.random()}`);
  const inputs = opts.inputs ?? [];
  const started = Date.now();
  const vertex = { type: "vertex" as const, digest, name, inputs: [...inputs], started };
  const statusStarted = new Map<string, number>();
  progress.write(vertex);
  return {
    digest,
    status(id, current, total, done) {
      const now = Date.now();
      const first = statusStarted.get(id) ?? now;
      statusStarted.set(id, first);
      progress.write({ type: "status", vertex: digest, id, current, started: first, ...(total === undefined ? {} : { total }), ...(done ? { completed: now } : {}) });
    },
    info(text) {
      progress.write({ type: "log", vertex: digest, stream: 1, data: new TextEncoder().encode(`${text}\n`), time: Date.now() });
    },
    warn(text) {
      progress.write({ type: "log", vertex: digest, stream: 2, data: new TextEncoder().encode(`warning: ${text}\n`), time: Date.now() });
    },
    done(error) {
      const message = error === undefined ? undefined : error instanceof Error ? error.message : String(error);
      progress.write({ ...vertex, completed: Date.now(), ...(message === undefined ? {} : { error: message }) });
    },
  };
}

/** Runs fn as a task named name; the task fails with fn's error. */
export async function withTask<T>(progress: ProgressWriter, name: string, fn: (task: ProgressTask) => Promise<T>, opts: TaskOptions = {}): Promise<T> {
  const task = startTask(progress, name, opts);
  try {
    const value = await fn(task);
    task.done();
    return value;
  } catch (err) {
    task.done(err);
    throw err;
  }
}
