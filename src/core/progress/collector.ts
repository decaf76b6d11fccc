import type { Digest } from "../digest.ts";
import type { ProgressEvent, ProgressWarning } from "./events.ts";

/**
 * The current state of a build folded from its progress events: for the tty display, which
 * redraws from state rather than from events, and for the summary printed when a build ends.
 */
export interface StatusState {
  readonly id: string;
  readonly current: number;
  readonly total?: number;
  readonly started?: number;
  readonly completed?: number;
}

export interface VertexState {
  readonly digest: Digest;
  readonly name: string;
  readonly inputs: readonly Digest[];
  readonly started?: number;
  readonly completed?: number;
  readonly cached: boolean;
  readonly error?: string;
  readonly canceled: boolean;
  /** By id, in the order first seen. */
  readonly statuses: ReadonlyMap<string, StatusState>;
  /** Warnings about it, in arrival order. */
  readonly warnings: readonly ProgressWarning[];
  /** The last `logTailLines` log lines (both streams), an unfinished last line included. */
  logTail(): string[];
}

/** `done` counts every finished vertex; `cached`, `errored` and `canceled` are parts of it. */
export interface ProgressCounts {
  readonly total: number;
  readonly running: number;
  readonly done: number;
  readonly cached: number;
  readonly errored: number;
  readonly canceled: number;
}

export interface ProgressState {
  apply(e: ProgressEvent): void;
  get(digest: Digest): VertexState | undefined;
  /** Started vertices in start order, then the ones not started yet in the order first seen. */
  vertices(): VertexState[];
  counts(): ProgressCounts;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Vertex extends Mutable<Omit<VertexState, "statuses" | "warnings" | "logTail">> {
  readonly statuses: Map<string, StatusState>;
  readonly warnings: ProgressWarning[];
  listed: boolean;
  readonly tail: string[];
  readonly partial: Map<1 | 2, { decoder: TextDecoder; text: string }>;
  logTail(): string[];
}

export function createProgressState(opts: { logTailLines?: number } = {}): ProgressState {
  const tailLines = opts.logTailLines ?? 20;
  const byDigest = new Map<Digest, Vertex>();
  const startOrder: Vertex[] = [];

  const vertex = (digest: Digest, name: string): Vertex => {
    let v = byDigest.get(digest);
    if (v === undefined) {
      const tail: string[] = [];
      const partial = new Map<1 | 2, { decoder: TextDecoder; text: string }>();
      const logTail = (): string[] => {
        const lines = [...tail, ...[...partial.values()].map((p) => p.text).filter((t) => t !== "")];
        return lines.slice(-tailLines);
      };
      v = { digest, name, inputs: [], cached: false, canceled: false, statuses: new Map(), warnings: [], listed: false, tail, partial, logTail };
      byDigest.set(digest, v);
    }
    return v;
  };

  const onVertex = (e: Extract<ProgressEvent, { type: "vertex" }>): void => {
    const v = vertex(e.digest, e.name);
    const restart = e.started !== undefined && v.completed !== undefined && e.completed === undefined && e.started >= v.completed;
    if (restart) {
      v.completed = undefined;
      v.cached = false;
      v.error = undefined;
      v.canceled = false;
    }
    v.name = e.name;
    v.inputs = e.inputs;
    if (!v.listed && (e.started !== undefined || e.completed !== undefined)) {
      v.listed = true;
      startOrder.push(v);
    }
    if (e.started !== undefined) v.started = e.started;
    if (e.completed !== undefined) v.completed = e.completed;
    if (e.cached === true) v.cached = true;
    if (e.error !== undefined) v.error = e.error;
    if (e.canceled === true || e.error?.endsWith("context canceled") === true) v.canceled = true;
  };

  const onLog = (e: Extract<ProgressEvent, { type: "log" }>): void => {
    const v = vertex(e.vertex, e.vertex);
    let p = v.partial.get(e.stream);
    if (p === undefined) {
      p = { decoder: new TextDecoder(), text: "" };
      v.partial.set(e.stream, p);
    }
    const parts = (p.text + p.decoder.decode(e.data, { stream: true })).split("\n");
    p.text = parts.pop() ?? "";
    v.tail.push(...parts.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l)));
    if (v.tail.length > tailLines) v.tail.splice(0, v.tail.length - tailLines);
  };

  return {
    apply(e: ProgressEvent): void {
      switch (e.type) {
        case "vertex":
          onVertex(e);
          break;
        case "status": {
          const { type: _t, vertex: d, ...status } = e;
          vertex(d, d).statuses.set(e.id, status);
          break;
        }
        case "log":
          onLog(e);
          break;
        case "warning":
          // As BuildKit's display: a warning about a vertex not seen is dropped.
          byDigest.get(e.vertex)?.warnings.push(e);
          break;
        default:
          assertNever(e);
      }
    },
    get: (digest) => byDigest.get(digest),
    vertices(): VertexState[] {
      return [...startOrder, ...[...byDigest.values()].filter((v) => !v.listed)];
    },
    counts(): ProgressCounts {
      let running = 0;
      let done = 0;
      let cached = 0;
      let errored = 0;
      let canceled = 0;
      for (const v of byDigest.values()) {
        if (v.completed === undefined) {
          if (v.started !== undefined) running++;
          continue;
        }
        done++;
        if (v.canceled) canceled++;
        else if (v.error !== undefined) errored++;
        else if (v.cached) cached++;
      }
      return { total: byDigest.size, running, done, cached, errored, canceled };
    },
  };
}

function assertNever(x: never): never {
  throw new Error(`unexpected progress event ${JSON.stringify(x)}`);
}
