import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { sha256 } from "../../../src/core/digest.ts";
import type { ProgressEvent } from "../../../src/core/progress/events.ts";
import { createTraceWriter, defaultTracePath, readTrace, readTraceRecords } from "../../../src/core/progress/trace.ts";
import type { TimedProgressEvent, TraceRecord } from "../../../src/core/progress/trace.ts";

const dir = mkdtempSync(join(tmpdir(), "bk-trace-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const tracePath = (): string => join(dir, `sub/t${n++}.jsonl`);

const T0 = 1_700_000_000_000;
const A = sha256("a");
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const fileLines = (path: string): Record<string, unknown>[] =>
  readFileSync(path, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const events: ProgressEvent[] = [
  { type: "vertex", digest: A, name: "RUN echo hi", inputs: [sha256("b")], started: T0 },
  { type: "status", vertex: A, id: "sha256:abcd", current: 10, total: 20, started: T0 },
  { type: "log", vertex: A, stream: 1, data: enc("hi ✓\n"), time: T0 + 5 },
  { type: "log", vertex: A, stream: 2, data: new Uint8Array([0xff, 0x00, 0x41, 0xc3]), time: T0 + 6 },
  { type: "vertex", digest: A, name: "RUN echo hi", inputs: [sha256("b")], started: T0, completed: T0 + 9, cached: false },
];

describe("trace writer", () => {
  test("round-trips events, with header and end lines and time added when missing", async () => {
    const path = tracePath();
    const w = createTraceWriter(path, { now: () => T0 + 42, argv: ["buildkit", "build"] });
    for (const e of events) w.write(e);
    await w.close();

    const lines = fileLines(path);
    expect(lines[0]).toEqual({ type: "trace", version: 1, started: T0 + 42, argv: ["buildkit", "build"], pid: process.pid });
    expect(lines.at(-1)).toEqual({ type: "end", time: T0 + 42 });
    expect(lines).toHaveLength(events.length + 2);
    expect(lines[3]).toMatchObject({ type: "log", text: "hi ✓\n" });
    expect(lines[4]).toMatchObject({ type: "log", data64: "/wBBww==" });
    expect(lines[4]).not.toHaveProperty("text");

    const back = await collect(readTrace(path));
    const expected = events.map((e) => ("time" in e ? e : { ...e, time: T0 + 42 }));
    expect(back).toEqual(expected as TimedProgressEvent[]);
    expect(back[2]?.type === "log" && back[2].data instanceof Uint8Array).toBe(true);
  });

  test("close(err) records the error in the end line; writes after close are ignored", async () => {
    const path = tracePath();
    const w = createTraceWriter(path, { now: () => T0 });
    await w.close(new Error("solving: boom"));
    w.write(events[0] as ProgressEvent);
    await w.close();
    const records = await collect(readTraceRecords(path));
    expect(records.map((r) => r.type)).toEqual(["trace", "end"]);
    expect(records[1]).toEqual({ type: "end", time: T0, error: "solving: boom" });
  });

  test("the redact hook masks secrets in text, binary logs, names, errors and argv", async () => {
    const path = tracePath();
    const redact = (t: string): string => t.replaceAll("s3cr3t", "***");
    const w = createTraceWriter(path, { redact, argv: ["buildkit", "--token=s3cr3t"] });
    w.write({ type: "log", vertex: A, stream: 1, data: enc("token=s3cr3t\n"), time: T0 });
    w.write({ type: "log", vertex: A, stream: 2, data: new Uint8Array([0xff, ...enc("s3cr3t"), 0xfe]), time: T0 });
    w.write({ type: "vertex", digest: A, name: "RUN echo s3cr3t", inputs: [], error: "exit 1: s3cr3t" });
    await w.close(new Error("failed with s3cr3t"));

    const raw = readFileSync(path, "utf8");
    expect(raw).not.toContain("s3cr3t");
    expect(raw).not.toContain(Buffer.from("s3cr3t").toString("base64").slice(0, 6));
    const records = await collect(readTraceRecords(path));
    const text = (r: TraceRecord | undefined): string => (r?.type === "log" ? new TextDecoder().decode(r.data) : "");
    expect(text(records[1])).toBe("token=***\n");
    expect(text(records[2])).toBe("\ufffd***\ufffd");
    expect(records[3]).toMatchObject({ name: "RUN echo ***", error: "exit 1: ***" });
    expect(records[4]).toMatchObject({ type: "end", error: "failed with ***" });
    expect(records[0]).toMatchObject({ argv: ["buildkit", "--token=***"] });
  });

  test("flushes incrementally: lines reach the file before close", async () => {
    const path = tracePath();
    const w = createTraceWriter(path, { flushIntervalMs: 20 });
    w.write(events[0] as ProgressEvent);
    await Bun.sleep(100);
    const lines = fileLines(path);
    expect(lines.map((l) => l.type)).toEqual(["trace", "vertex"]);
    await w.close();
  });

  test("a torn last line (crash) is skipped; a bad line in the middle is an error", async () => {
    const path = tracePath();
    const header = JSON.stringify({ type: "trace", version: 1, started: T0, argv: [], pid: 1 });
    const ev = JSON.stringify({ type: "log", vertex: A, stream: 1, time: T0, text: "x" });
    writeFileSync(path, `${header}\n${ev}\n{"type":"log","vert`);
    expect(await collect(readTrace(path))).toEqual([{ type: "log", vertex: A, stream: 1, time: T0, data: enc("x") }]);

    writeFileSync(path, `${header}\nnot json\n${ev}\n`);
    await expect(collect(readTrace(path))).rejects.toThrow(/line 2: not JSON/);
  });

  test("defaultTracePath names a file under <stateDir>/traces and creates the directory", () => {
    const p = defaultTracePath(join(dir, "state"));
    expect(p).toMatch(/\/state\/traces\/\d{4}-\d\d-\d\dT\d{6}\.\d{3}Z-\d+\.jsonl$/);
    expect(p.endsWith(`-${process.pid}.jsonl`)).toBe(true);
    expect(existsSync(dirname(p))).toBe(true);
  });
});

test("createTraceWriter reports an unopenable path with context", () => {
  expect(() => createTraceWriter(dir)).toThrow(/^opening trace .*: EISDIR/);
});
