// What each row of the tty tree says, computed from the folded progress state. Pure: the tree
// (tree.ts) turns these into listr2 tasks, the renderer lays them out.
import type { ProgressCounts, StatusState, VertexState } from "../../core/progress/collector.ts";
import type { ProgressWarning } from "../../core/progress/events.ts";
import { formatBytes } from "../plain.ts";
import { ALIGN } from "./renderer.ts";
import type { Palette } from "./text.ts";
import { formatDuration, sanitizeLine, shortID, truncate, width } from "./text.ts";
import { cut, MAX_NAME } from "../sanitize.ts";

export type RowState = "running" | "done" | "cached" | "error" | "canceled";

export interface VertexRow {
  /** `name\tSTATE duration`: the renderer aligns the part after the tab to the right edge. */
  readonly title: string;
  readonly state: RowState;
  readonly error?: string;
  /** The last log lines, for a running step only. */
  readonly logs: readonly string[];
}

export interface StatusRow {
  readonly title: string;
  readonly done: boolean;
}

export function rowState(v: VertexState): RowState {
  if (v.completed === undefined) return "running";
  if (v.canceled) return "canceled";
  if (v.error !== undefined) return "error";
  return v.cached ? "cached" : "done";
}

export function vertexRow(v: VertexState, now: number, logLines: number): VertexRow {
  const state = rowState(v);
  const duration = formatDuration((v.completed ?? now) - (v.started ?? v.completed ?? now));
  const right = { running: duration, done: `DONE ${duration}`, cached: "CACHED", error: `ERROR ${duration}`, canceled: "CANCELED" }[state];
  const logs = state === "running" ? v.logTail().map(sanitizeLine).filter((l) => l.trim() !== "").slice(-logLines) : [];
  const row = { title: `${oneLine(v.name)}${ALIGN}${right}`, state, logs };
  return state === "error" && v.error !== undefined ? { ...row, error: v.error } : row;
}

/** `WARN: <short>`, as BuildKit's display titles a warning under its vertex. */
export function warningRow(w: ProgressWarning): string {
  return `WARN: ${oneLine(w.short)}`;
}

/** `sha256:abcdef012345 12.30MB / 45.60MB 8.10MB/s` with its duration (or DONE) on the right. */
export function statusRow(s: StatusState, opts: { now: number; rate?: number; vertexFinished: boolean }): StatusRow {
  const done = s.completed !== undefined || opts.vertexFinished;
  const parts = [oneLine(shortID(s.id))];
  if (s.total !== undefined && s.total > 0) parts.push(`${formatBytes(s.current)} / ${formatBytes(s.total)}`);
  else if (s.current > 0) parts.push(formatBytes(s.current));
  const rate = done ? averageRate(s) : opts.rate;
  if (s.current > 0 && rate !== undefined && rate > 0) parts.push(`${formatBytes(Math.round(rate))}/s`);
  const elapsed = s.started === undefined ? undefined : formatDuration((s.completed ?? opts.now) - s.started);
  const right = done ? (s.completed !== undefined && elapsed !== undefined ? `DONE ${elapsed}` : "DONE") : (elapsed ?? "");
  return { title: right === "" ? parts.join(" ") : `${parts.join(" ")}${ALIGN}${right}`, done };
}

function averageRate(s: StatusState): number | undefined {
  if (s.started === undefined || s.completed === undefined || s.completed <= s.started) return undefined;
  return (s.current * 1000) / (s.completed - s.started);
}

export type Outcome = "FINISHED" | "ERROR";

/** `[+] Building 12.3s (7/10)`, with ` FINISHED` or ` ERROR` once the build is over. */
export function headerLine(counts: ProgressCounts, elapsedMs: number, opts: { columns: number; palette: Palette; outcome?: Outcome }): string {
  const base = `[+] Building ${formatDuration(elapsedMs)} (${counts.done}/${counts.total})`;
  const text = opts.outcome === undefined ? base : `${base} ${opts.outcome}`;
  const room = opts.columns - 1;
  if (width(text) > room) return truncate(text, room);
  const p = opts.palette;
  if (opts.outcome === undefined) return p.bold(base);
  return `${p.bold(base)} ${opts.outcome === "FINISHED" ? p.green(opts.outcome) : p.red(opts.outcome)}`;
}

/** A name for one row: escapes stripped, cut (the renderer cuts again to the terminal's width). */
function oneLine(s: string): string {
  return sanitizeLine(cut(s, MAX_NAME).replaceAll(/\s*\n\s*/g, " "));
}
