import type { Digest } from "../digest.ts";
import type { VertexState } from "./collector.ts";
import { createProgressState } from "./collector.ts";
import type { ProgressEvent } from "./events.ts";

/**
 * What a build's progress events say about where its time went (`buildkit debug trace`): each
 * step's start and duration, busy time (the steps' durations added up) against wall time (first
 * start to last completion), the parallelism that gives, and the critical path: the chain of
 * steps through their inputs, ending at the step that completed last (in a failed build, the
 * step that failed), whose durations add up to the most. Also the same steps in the Chrome trace event format, for Perfetto or chrome://tracing.
 */
export interface StepTiming {
  readonly digest: Digest;
  readonly name: string;
  readonly inputs: readonly Digest[];
  /** Epoch ms. */
  readonly started: number;
  /** ms since the first step started. */
  readonly offset: number;
  /** Undefined for a step that never completed. */
  readonly duration?: number;
  readonly cached: boolean;
  readonly error?: string;
  readonly canceled: boolean;
  readonly critical: boolean;
}

export interface TraceAnalysis {
  /** Steps that started (or completed), in start order. */
  readonly steps: readonly StepTiming[];
  /** Epoch ms of the first start, undefined when no step started. */
  readonly startTime?: number;
  readonly wallMs: number;
  readonly busyMs: number;
  /** busy / wall (0 for an empty trace). */
  readonly parallelism: number;
  /** The most steps running at one moment (zero-length steps, such as cache hits, do not count). */
  readonly maxConcurrency: number;
  readonly criticalPath: { readonly digests: readonly Digest[]; readonly durationMs: number };
  /** The last time the events mention, epoch ms (for steps that never completed). */
  readonly lastTime?: number;
}

type TimedEvent = ProgressEvent & { readonly time?: number };

export function analyzeTrace(events: Iterable<TimedEvent>): TraceAnalysis {
  const state = createProgressState({ logTailLines: 0 });
  let lastTime: number | undefined;
  for (const e of events) {
    state.apply(e);
    lastTime = latest(lastTime, eventTime(e));
  }
  const vertices = state.vertices().filter((v) => v.started !== undefined || v.completed !== undefined);
  const startTime = vertices.reduce<number | undefined>((t, v) => earliest(t, startOf(v)), undefined);
  const durations = new Map(vertices.map((v) => [v.digest, durationOf(v)] as const));
  const criticalPath = findCriticalPath(vertices, durations);
  const critical = new Set(criticalPath.digests);
  const steps = vertices.map((v) => step(v, startTime ?? 0, durations.get(v.digest), critical.has(v.digest)));
  const end = vertices.reduce<number | undefined>((t, v) => latest(t, v.completed), undefined);
  const wallMs = startTime === undefined || end === undefined ? 0 : end - startTime;
  const busyMs = steps.reduce((n, s) => n + (s.duration ?? 0), 0);
  return {
    steps,
    ...(startTime === undefined ? {} : { startTime }),
    ...(lastTime === undefined ? {} : { lastTime }),
    wallMs,
    busyMs,
    parallelism: wallMs > 0 ? busyMs / wallMs : 0,
    maxConcurrency: maxConcurrency(steps),
    criticalPath,
  };
}

function step(v: VertexState, t0: number, duration: number | undefined, critical: boolean): StepTiming {
  const started = startOf(v) ?? t0;
  return {
    digest: v.digest,
    name: v.name,
    inputs: v.inputs,
    started,
    offset: started - t0,
    ...(duration === undefined ? {} : { duration }),
    cached: v.cached,
    ...(v.error === undefined ? {} : { error: v.error }),
    canceled: v.canceled,
    critical,
  };
}

function startOf(v: VertexState): number | undefined {
  return v.started ?? v.completed;
}

function durationOf(v: VertexState): number | undefined {
  const start = startOf(v);
  return start === undefined || v.completed === undefined || v.completed < start ? undefined : v.completed - start;
}

function eventTime(e: TimedEvent): number | undefined {
  const times = e.type === "vertex" || e.type === "status" ? [e.time, e.started, e.completed] : [e.time];
  return times.reduce<number | undefined>((t, x) => latest(t, x), undefined);
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/** The longest chain (by summed durations) through inputs that ends at the last-completed (or failed) step. */
function findCriticalPath(vertices: readonly VertexState[], durations: ReadonlyMap<Digest, number | undefined>): TraceAnalysis["criticalPath"] {
  const byDigest = new Map(vertices.map((v) => [v.digest, v] as const));
  const memo = new Map<Digest, { length: number; via?: Digest }>();
  const longest = (d: Digest, visiting: Set<Digest>): number => {
    const known = memo.get(d);
    if (known !== undefined) return known.length;
    visiting.add(d);
    let best: { length: number; via?: Digest } = { length: 0 };
    for (const input of byDigest.get(d)?.inputs ?? []) {
      if (visiting.has(input) || durations.get(input) === undefined) continue; // a cycle, or not a completed step
      const length = longest(input, visiting);
      if (best.via === undefined || length > best.length) best = { length, via: input };
    }
    visiting.delete(d);
    const result = { ...best, length: best.length + (durations.get(d) ?? 0) };
    memo.set(d, result);
    return result.length;
  };
  // A failed build's path ends at the step that failed, not at a sibling canceled after it.
  const failed = vertices.filter((v) => v.error !== undefined && !v.canceled);
  let last: VertexState | undefined;
  for (const v of failed.length > 0 ? failed : vertices) {
    if (v.completed === undefined || durations.get(v.digest) === undefined) continue;
    if (last === undefined || (last.completed ?? 0) < v.completed) last = v;
    else if (last.completed === v.completed && longest(v.digest, new Set()) > longest(last.digest, new Set())) last = v;
  }
  if (last === undefined) return { digests: [], durationMs: 0 };
  const durationMs = longest(last.digest, new Set());
  const digests: Digest[] = [];
  for (let d: Digest | undefined = last.digest; d !== undefined && !digests.includes(d); d = memo.get(d)?.via) digests.unshift(d);
  return { digests, durationMs };
}

/** The most overlapping [start, end) intervals; an end and a start at the same moment do not overlap. */
function maxConcurrency(steps: readonly StepTiming[]): number {
  const points: [number, number][] = [];
  for (const s of steps) {
    if (s.duration === undefined || s.duration <= 0) continue;
    points.push([s.started, 1], [s.started + s.duration, -1]);
  }
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let max = 0;
  for (const [, delta] of points) {
    running += delta;
    max = Math.max(max, running);
  }
  return max;
}

/** One event of the Chrome trace event format ("X": a complete event; "M": metadata). Times in µs. */
export interface ChromeTraceEvent {
  readonly name: string;
  readonly ph: "X" | "M";
  readonly pid: number;
  readonly tid: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly cat?: string;
  readonly args: Readonly<Record<string, unknown>>;
}

export interface ChromeTrace {
  readonly traceEvents: readonly ChromeTraceEvent[];
  readonly displayTimeUnit: "ms";
  readonly otherData: Readonly<Record<string, string>>;
}

const PID = 1;

/**
 * The steps as "X" events, `ts` relative to the first start, on lanes (`tid`) such that steps
 * that overlap in time never share one; a step that never completed runs to the trace's last time.
 */
export function toChromeTrace(events: Iterable<TimedEvent>): ChromeTrace {
  const a = analyzeTrace(events);
  const t0 = a.startTime ?? 0;
  const laneEnds: number[] = [];
  const traceEvents: ChromeTraceEvent[] = [];
  const ordered = [...a.steps].sort((x, y) => x.started - y.started);
  for (const s of ordered) {
    const end = s.duration === undefined ? Math.max(s.started, a.lastTime ?? s.started) : s.started + s.duration;
    let lane = laneEnds.findIndex((e) => e <= s.started);
    if (lane < 0) lane = laneEnds.push(end) - 1;
    else laneEnds[lane] = end;
    const args = {
      digest: s.digest,
      cached: s.cached,
      critical: s.critical,
      ...(s.error === undefined ? {} : { error: s.error }),
      ...(s.canceled ? { canceled: true } : {}),
      ...(s.duration === undefined ? { incomplete: true } : {}),
    };
    traceEvents.push({ name: s.name, cat: "vertex", ph: "X", pid: PID, tid: lane + 1, ts: (s.started - t0) * 1000, dur: (end - s.started) * 1000, args });
  }
  const meta: ChromeTraceEvent[] = [{ name: "process_name", ph: "M", pid: PID, tid: 0, args: { name: "buildkit build" } }];
  laneEnds.forEach((_, i) => {
    meta.push({ name: "thread_name", ph: "M", pid: PID, tid: i + 1, args: { name: `lane ${i + 1}` } });
    meta.push({ name: "thread_sort_index", ph: "M", pid: PID, tid: i + 1, args: { sort_index: i + 1 } });
  });
  const otherData: Record<string, string> = a.startTime === undefined ? {} : { startTime: new Date(a.startTime).toISOString() };
  return { traceEvents: [...meta, ...traceEvents], displayTimeUnit: "ms", otherData };
}

/**
 * The analysis as text: one row per step (`*` marks the critical path; start, duration, state,
 * name), then `wall 12.3s, busy 20.1s, parallelism 1.6 (max 4), critical path 10.2s` (times under a
 * second in ms).
 */
export function formatTraceTable(a: TraceAnalysis): string[] {
  const rows = a.steps.map((s) => `${s.critical ? "*" : " "} ${secs(s.offset, 2).padStart(8)} ${(s.duration === undefined ? "-" : secs(s.duration, 2)).padStart(8)}  ${stateOf(s).padEnd(8)}  ${s.name}`);
  return [`  ${"START".padStart(8)} ${"DURATION".padStart(8)}  ${"STATE".padEnd(8)}  STEP`, ...rows, summaryLine(a)];
}

export function summaryLine(a: TraceAnalysis): string {
  const t = (ms: number): string => (ms < 1000 ? `${Math.round(ms)}ms` : secs(ms, 1));
  return `wall ${t(a.wallMs)}, busy ${t(a.busyMs)}, parallelism ${a.parallelism.toFixed(1)} (max ${a.maxConcurrency}), critical path ${t(a.criticalPath.durationMs)}`;
}

function stateOf(s: StepTiming): string {
  if (s.duration === undefined) return "running";
  if (s.canceled) return "canceled";
  if (s.error !== undefined) return "error";
  return s.cached ? "cached" : "done";
}

function secs(ms: number, digits: number): string {
  return `${(ms / 1000).toFixed(digits)}s`;
}
