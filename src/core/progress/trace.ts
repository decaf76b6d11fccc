import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { statePath } from "../worker/storage.ts";
import { BuildkitError, withContext } from "../errors.ts";
import type { ProgressEvent, ProgressWriter } from "./events.ts";
import { warningFromJson, warningToJson, type WarningJson } from "./warning-json.ts";

/**
 * Trace files: the whole progress stream of one build as JSON lines, for `debug trace` and bug
 * reports. Line 1 is a TraceHeader, then one event per line (each with `time`, ms since the
 * epoch; log bytes as `text` when valid UTF-8, else base64 in `data64`; a warning's source bytes
 * as base64, see warning-json.ts), and a TraceEnd written
 * on close. Lines are flushed every `flushIntervalMs`, so a crash loses only the last moments.
 */
export interface TraceHeader {
  readonly type: "trace";
  readonly version: 1;
  readonly started: number;
  readonly argv: readonly string[];
  readonly pid: number;
}
export interface TraceEnd {
  readonly type: "end";
  readonly time: number;
  readonly error?: string;
}
export type TimedProgressEvent = ProgressEvent & { readonly time: number };
export type TraceRecord = TraceHeader | TraceEnd | TimedProgressEvent;

export interface TraceWriterOptions {
  /** Masks secrets in log text, vertex names, errors and argv before anything reaches the disk. */
  readonly redact?: (text: string) => string;
  readonly now?: () => number;
  readonly argv?: readonly string[];
  readonly flushIntervalMs?: number;
}

/** `<stateDir>/traces/<ISO time without colons>-<pid>.jsonl`; creates the directory. */
export function defaultTracePath(stateDir: string): string {
  const dir = statePath(stateDir, "traces");
  mkdirSync(dir, { recursive: true });
  return join(dir, `${new Date().toISOString().replaceAll(":", "")}-${process.pid}.jsonl`);
}

export function createTraceWriter(path: string, opts: TraceWriterOptions = {}): ProgressWriter {
  const redact = opts.redact ?? ((t: string) => t);
  const now = opts.now ?? Date.now;
  let sink: ReturnType<ReturnType<typeof Bun.file>["writer"]>;
  try {
    mkdirSync(dirname(path), { recursive: true });
    sink = Bun.file(path).writer();
  } catch (err) {
    throw withContext(`opening trace ${path}`, err);
  }
  let failure: unknown;
  let dirty = false;
  let closed = false;
  const fail = (err: unknown): void => {
    failure ??= err;
  };
  const put = (record: object): void => {
    if (failure !== undefined) return;
    try {
      const r = sink.write(`${JSON.stringify(record)}\n`);
      if (r instanceof Promise) r.catch(fail);
      dirty = true;
    } catch (err) {
      fail(err);
    }
  };
  const flush = (): void => {
    if (!dirty || failure !== undefined) return;
    dirty = false;
    try {
      const r = sink.flush();
      if (r instanceof Promise) r.catch(fail);
    } catch (err) {
      fail(err);
    }
  };
  const timer = setInterval(flush, opts.flushIntervalMs ?? 200);
  timer.unref();

  const header: TraceHeader = { type: "trace", version: 1, started: now(), argv: (opts.argv ?? process.argv).map(redact), pid: process.pid };
  put(header);
  flush();

  return {
    write(e: ProgressEvent): void {
      if (!closed) put(encodeEvent(e, now, redact));
    },
    async close(err?: Error): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      const end: TraceEnd = err === undefined ? { type: "end", time: now() } : { type: "end", time: now(), error: redact(err.message) };
      put(end);
      try {
        await sink.end();
      } catch (e) {
        fail(e);
      }
      if (failure !== undefined) throw withContext(`writing trace ${path}`, failure);
    },
  };
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Lossy = new TextDecoder("utf-8", { ignoreBOM: true });

function encodeEvent(e: ProgressEvent, now: () => number, redact: (t: string) => string): object {
  const time = "time" in e && typeof e.time === "number" ? e.time : now();
  switch (e.type) {
    case "vertex":
      return { ...e, name: redact(e.name), ...(e.error === undefined ? {} : { error: redact(e.error) }), time };
    case "status":
      return { ...e, id: redact(e.id), time };
    case "log": {
      const { data, ...rest } = e;
      return { ...rest, time, ...encodeLogData(data, redact) };
    }
    case "warning":
      return { ...warningToJson(e, redact), time };
    default:
      return assertNever(e);
  }
}

function encodeLogData(data: Uint8Array, redact: (t: string) => string): { text: string } | { data64: string } {
  let text: string | undefined;
  try {
    text = utf8.decode(data);
  } catch {
    // Not UTF-8: keep the bytes exact, unless a secret shows up in a lossy decoding (a valid UTF-8
    // secret survives lossy decoding intact); then the masked lossy text is written instead.
    const lossy = utf8Lossy.decode(data);
    const masked = redact(lossy);
    return masked === lossy ? { data64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64") } : { text: masked };
  }
  return { text: redact(text) };
}

/** Every record of a trace file, header and end included. A torn last line (a crash) is skipped. */
export async function* readTraceRecords(path: string): AsyncGenerator<TraceRecord> {
  const decoder = new TextDecoder();
  let pending = "";
  let lineNo = 0;
  for await (const chunk of Bun.file(path).stream()) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      lineNo++;
      if (line.trim() !== "") yield parseRecord(line, path, lineNo);
    }
  }
  pending += decoder.decode();
  if (pending.trim() === "") return;
  try {
    yield parseRecord(pending, path, lineNo + 1);
  } catch {
    // the line being written when the process died
  }
}

/** The events of a trace file, in the order they were written. */
export async function* readTrace(path: string): AsyncGenerator<TimedProgressEvent> {
  for await (const r of readTraceRecords(path)) {
    if (r.type !== "trace" && r.type !== "end") yield r;
  }
}

function parseRecord(line: string, path: string, lineNo: number): TraceRecord {
  const bad = (why: string, cause?: unknown): BuildkitError =>
    new BuildkitError("InvalidArgument", `reading trace ${path}: line ${lineNo}: ${why}`, cause === undefined ? undefined : { cause });
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw bad("not JSON", err);
  }
  if (typeof v !== "object" || v === null || !("type" in v)) throw bad("not a trace record");
  switch (v.type) {
    case "trace":
    case "end":
    case "vertex":
    case "status":
      return v as TraceRecord;
    case "log": {
      const { text, data64, ...rest } = v as { text?: unknown; data64?: unknown };
      if (typeof text === "string") return { ...rest, data: new TextEncoder().encode(text) } as TimedProgressEvent;
      if (typeof data64 === "string") return { ...rest, data: new Uint8Array(Buffer.from(data64, "base64")) } as TimedProgressEvent;
      throw bad("log record without text or data64");
    }
    case "warning": {
      const { time } = v as { time?: unknown };
      return { ...warningFromJson(v as WarningJson), time: typeof time === "number" ? time : 0 };
    }
    default:
      throw bad(`unknown record type ${JSON.stringify(v.type)}`);
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected progress event ${JSON.stringify(x)}`);
}
