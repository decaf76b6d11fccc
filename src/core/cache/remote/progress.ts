/**
 * A progress vertex of its own for cache work outside the solve (reading a cache manifest,
 * fetching layers, exporting), with statuses and log lines, as exporters get in build.ts.
 */
import { sha256 } from "../../digest.ts";
import type { ProgressWriter } from "../../progress/events.ts";

export interface CacheTask {
  status(id: string, current: number, total?: number, done?: boolean): void;
  /** A line on the vertex's stdout. */
  info(text: string): void;
  /** A `warning: ` line on the vertex's stderr. */
  warn(text: string): void;
  done(error?: unknown): void;
}

export function startTask(progress: ProgressWriter, name: string): CacheTask {
  const digest = sha256(`cache:${name}:${Date.now()}:${Math.random()}`);
  const started = Date.now();
  const vertex = { type: "vertex" as const, digest, name, inputs: [], started };
  const statusStarted = new Map<string, number>();
  progress.write(vertex);
  return {
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
export async function withTask<T>(progress: ProgressWriter, name: string, fn: (task: CacheTask) => Promise<T>): Promise<T> {
  const task = startTask(progress, name);
  try {
    const value = await fn(task);
    task.done();
    return value;
  } catch (err) {
    task.done(err);
    throw err;
  }
}
