import type { Digest } from "../core/digest.ts";
import type { ProgressEvent, ProgressWarning, ProgressWriter } from "../core/progress/events.ts";
import { safeError, safeLog, safeName } from "./sanitize.ts";

/**
 * `--progress=plain`, in BuildKit's format: vertices numbered `#1`, `#2`… in the order they are
 * first seen, a `#N <name>` header whenever output switches to another vertex (blocks separated
 * by an empty line, an interrupted one marked `#N ...`), then log lines `#N <secs> <text>`,
 * status lines `#N <id> <cur> / <total> <secs>s done`, and one of `#N CACHED`, `#N DONE 1.2s`,
 * `#N ERROR: <msg>`, `#N CANCELED`; a warning as `#N WARN: <short>`. Unlike BuildKit it streams: nothing is buffered except
 * partial log lines, which wait for their newline or the vertex's end.
 */
export interface PlainPrinterOptions {
  readonly now?: () => number;
  /** Base for log times of a vertex that never reported `started`; defaults to creation time. */
  readonly startTime?: number;
  /** Minimum time between two prints of one unfinished status id. */
  readonly statusIntervalMs?: number;
}

interface Partial {
  readonly time: number;
  chunks: Uint8Array[];
}

interface VertexView {
  readonly index: number;
  name: string;
  started?: number;
  ended: boolean;
  /** The vertex's last line (`DONE 0.1s`…), said again after a later warning, as BuildKit's printer does. */
  endLine?: string;
  readonly partial: Map<1 | 2, Partial>;
  readonly statuses: Map<string, { last: number; done: boolean }>;
}

export function createPlainPrinter(out: { write(s: string): void }, opts: PlainPrinterOptions = {}): ProgressWriter {
  return new PlainPrinter(out, opts);
}

const decoder = new TextDecoder();
const NL = 0x0a;

class PlainPrinter implements ProgressWriter {
  readonly #out: { write(s: string): void };
  readonly #now: () => number;
  readonly #startTime: number;
  readonly #statusInterval: number;
  readonly #vertices = new Map<Digest, VertexView>();
  #current: VertexView | undefined;
  #notFirst = false;
  #closed = false;
  #lines: string[] = [];

  constructor(out: { write(s: string): void }, opts: PlainPrinterOptions) {
    this.#out = out;
    this.#now = opts.now ?? Date.now;
    this.#startTime = opts.startTime ?? this.#now();
    this.#statusInterval = opts.statusIntervalMs ?? 100;
  }

  write(e: ProgressEvent): void {
    if (this.#closed) return;
    switch (e.type) {
      case "vertex":
        this.#onVertex(e);
        break;
      case "status":
        this.#onStatus(e);
        break;
      case "log":
        this.#onLog(e);
        break;
      case "warning":
        this.#onWarning(e);
        break;
      default:
        assertNever(e);
    }
    this.#emit();
  }

  async close(_err?: Error): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const v of this.#vertices.values()) this.#flushPartials(v);
    this.#emit();
  }

  #view(digest: Digest, name: string): VertexView {
    let v = this.#vertices.get(digest);
    if (v === undefined) {
      v = { index: this.#vertices.size + 1, name, ended: false, partial: new Map(), statuses: new Map() };
      this.#vertices.set(digest, v);
    }
    return v;
  }

  #onVertex(e: Extract<ProgressEvent, { type: "vertex" }>): void {
    const v = this.#view(e.digest, e.name);
    v.name = e.name;
    const terminal = e.completed !== undefined || e.cached === true || e.error !== undefined || e.canceled === true;
    if (!terminal) {
      // A (re)start: print the header. Repeats of the same state and pending vertices print nothing.
      if (e.started === undefined || (e.started === v.started && !v.ended)) return;
      v.started = e.started;
      v.ended = false;
      this.#focus(v);
      return;
    }
    if (v.ended) return;
    v.ended = true;
    v.started ??= e.started;
    this.#focus(v);
    this.#flushPartials(v);
    if (e.canceled === true || e.error?.endsWith("context canceled") === true) v.endLine = "CANCELED";
    else if (e.error !== undefined) v.endLine = `ERROR: ${safeError(e.error)}`;
    else if (e.cached === true) v.endLine = "CACHED";
    else if (e.completed !== undefined && v.started !== undefined) v.endLine = `DONE ${seconds(e.completed - v.started)}s`;
    else v.endLine = "DONE";
    this.#line(v, v.endLine);
    this.#current = undefined;
  }

  /**
   * BuildKit's printer prints a vertex's new warnings when it prints the vertex: with its header
   * when another was being printed, and, for a finished vertex, its last line again. A warning
   * about a vertex never seen is dropped, as there.
   */
  #onWarning(e: ProgressWarning): void {
    const v = this.#vertices.get(e.vertex);
    if (v === undefined) return;
    this.#focus(v);
    this.#line(v, `WARN: ${safeName(e.short)}`);
    if (!v.ended) return;
    this.#line(v, v.endLine ?? "DONE");
    this.#current = undefined;
  }

  #onStatus(e: Extract<ProgressEvent, { type: "status" }>): void {
    const v = this.#view(e.vertex, e.vertex);
    const now = this.#now();
    let st = v.statuses.get(e.id);
    if (st === undefined) {
      st = { last: -Infinity, done: false };
      v.statuses.set(e.id, st);
    }
    if (e.completed !== undefined) {
      if (st.done) return;
      st.done = true;
    } else {
      if (!st.done && now - st.last < this.#statusInterval) return;
      st.done = false;
    }
    st.last = now;
    let text = safeName(e.id);
    if (e.total !== undefined && e.total !== 0) text += ` ${formatBytes(e.current)} / ${formatBytes(e.total)}`;
    else if (e.current !== 0) text += ` ${formatBytes(e.current)}`;
    if (e.started !== undefined) {
      const elapsed = (e.completed ?? now) - e.started;
      if (elapsed > 10) text += ` ${seconds(elapsed)}s`;
    }
    if (e.completed !== undefined) text += " done";
    this.#focus(v);
    this.#line(v, text);
  }

  #onLog(e: Extract<ProgressEvent, { type: "log" }>): void {
    const v = this.#view(e.vertex, e.vertex);
    let data = e.data;
    for (let nl = data.indexOf(NL); nl >= 0; nl = data.indexOf(NL)) {
      const held = v.partial.get(e.stream);
      v.partial.delete(e.stream);
      const line = data.subarray(0, nl);
      this.#logLine(v, held?.time ?? e.time, held === undefined ? [line] : [...held.chunks, line]);
      data = data.subarray(nl + 1);
    }
    if (data.length === 0) return;
    // Copy: the producer may reuse its buffer.
    const held = v.partial.get(e.stream);
    if (held === undefined) v.partial.set(e.stream, { time: e.time, chunks: [data.slice()] });
    else held.chunks.push(data.slice());
  }

  #flushPartials(v: VertexView): void {
    for (const held of v.partial.values()) this.#logLine(v, held.time, held.chunks);
    v.partial.clear();
  }

  #logLine(v: VertexView, time: number, chunks: Uint8Array[]): void {
    let text = decoder.decode(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks));
    if (text.endsWith("\r")) text = text.slice(0, -1);
    this.#focus(v);
    this.#line(v, `${logTime(time - (v.started ?? this.#startTime))} ${safeLog(text)}`);
  }

  /** Makes `v` the vertex being printed, with BuildKit's header and block separation. */
  #focus(v: VertexView): void {
    if (this.#current === v) return;
    if (this.#current !== undefined) this.#line(this.#current, "...");
    if (this.#notFirst) this.#lines.push("");
    this.#notFirst = true;
    this.#line(v, safeName(v.name));
    this.#current = v;
  }

  #line(v: VertexView, text: string): void {
    this.#lines.push(`#${v.index} ${text}`);
  }

  #emit(): void {
    if (this.#lines.length === 0) return;
    const s = `${this.#lines.join("\n")}\n`;
    this.#lines = [];
    this.#out.write(s);
  }
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(1);
}

/** Seconds since the vertex started; fewer decimals as it grows, as BuildKit does. */
function logTime(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  return s.toFixed(s < 10 ? 3 : s < 100 ? 2 : 1);
}

const UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB"] as const;

/** Decimal units with two decimals (`12.35MB`), whole bytes below 1 kB (`37B`), like BuildKit. */
export function formatBytes(n: number): string {
  let value = n;
  let i = 0;
  while (Math.abs(value) >= 1000 && i < UNITS.length - 1) {
    value /= 1000;
    i++;
  }
  return i === 0 ? `${n}B` : `${value.toFixed(2)}${UNITS[i] ?? ""}`;
}

function assertNever(x: never): never {
  throw new Error(`unexpected progress event ${JSON.stringify(x)}`);
}
