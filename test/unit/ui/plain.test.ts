import { describe, expect, test } from "bun:test";
import { sha256 } from "../../../src/core/digest.ts";
import type { Digest } from "../../../src/core/digest.ts";
import type { ProgressEvent } from "../../../src/core/progress/events.ts";
import { createPlainPrinter, formatBytes } from "../../../src/ui/plain.ts";

const T0 = 1_700_000_000_000;
const A = sha256("a");
const B = sha256("b");
const C = sha256("c");
const D = sha256("d");
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const vertex = (digest: Digest, name: string, fields: Partial<Extract<ProgressEvent, { type: "vertex" }>> = {}): ProgressEvent => ({
  type: "vertex",
  digest,
  name,
  inputs: [],
  ...fields,
});
const log = (v: Digest, text: string | Uint8Array, time: number, stream: 1 | 2 = 1): ProgressEvent => ({
  type: "log",
  vertex: v,
  stream,
  data: typeof text === "string" ? enc(text) : text,
  time,
});

function printer(opts: { now?: () => number } = {}) {
  let out = "";
  const p = createPlainPrinter({ write: (s) => (out += s) }, { startTime: T0, ...opts });
  return { p, lines: () => out.split("\n").slice(0, -1), raw: () => out };
}

describe("plain printer", () => {
  test("cached, parallel with interleaved logs, failing and canceled vertices", async () => {
    const { p, lines } = printer();
    const events: ProgressEvent[] = [
      vertex(A, "[internal] load metadata for docker.io/library/busybox:latest"), // pending: prints nothing
      vertex(A, "[internal] load metadata for docker.io/library/busybox:latest", { started: T0, completed: T0, cached: true }),
      vertex(B, "[1/2] RUN echo b", { started: T0 + 100 }),
      vertex(B, "[1/2] RUN echo b", { started: T0 + 100 }), // repeat: nothing
      vertex(C, "[2/2] RUN echo c", { started: T0 + 100 }),
      log(B, "hello\nwor", T0 + 200),
      log(C, "c1\n", T0 + 300),
      log(B, "ld\r\n", T0 + 400),
      vertex(B, "[1/2] RUN echo b", { started: T0 + 100, completed: T0 + 1300 }),
      log(C, "partial", T0 + 500),
      log(C, " line", T0 + 550),
      vertex(C, "[2/2] RUN echo c", { started: T0 + 100, completed: T0 + 600, error: 'process "echo c" did not complete successfully: exit code: 1' }),
      vertex(D, "[3/3] RUN sleep 10", { started: T0 + 700 }),
      vertex(D, "[3/3] RUN sleep 10", { started: T0 + 700, completed: T0 + 800, canceled: true }),
    ];
    for (const e of events) p.write(e);
    await p.close();
    expect(lines()).toEqual([
      "#1 [internal] load metadata for docker.io/library/busybox:latest",
      "#1 CACHED",
      "",
      "#2 [1/2] RUN echo b",
      "#2 ...",
      "",
      "#3 [2/2] RUN echo c",
      "#3 ...",
      "",
      "#2 [1/2] RUN echo b",
      "#2 0.100 hello",
      "#2 ...",
      "",
      "#3 [2/2] RUN echo c",
      "#3 0.200 c1",
      "#3 ...",
      "",
      "#2 [1/2] RUN echo b",
      "#2 0.100 world",
      "#2 DONE 1.2s",
      "",
      "#3 [2/2] RUN echo c",
      "#3 0.400 partial line",
      '#3 ERROR: process "echo c" did not complete successfully: exit code: 1',
      "",
      "#4 [3/3] RUN sleep 10",
      "#4 CANCELED",
    ]);
  });

  test("numbers vertices in the order first seen and omits DONE time without a start", async () => {
    const { p, lines } = printer();
    p.write(vertex(A, "a"));
    p.write(vertex(B, "b", { started: T0 }));
    p.write(vertex(A, "a", { completed: T0 + 10 }));
    p.write(vertex(B, "b", { started: T0, completed: T0 + 50 }));
    await p.close();
    expect(lines()).toEqual(["#2 b", "#2 ...", "", "#1 a", "#1 DONE", "", "#2 b", "#2 DONE 0.1s"]);
  });

  test("holds partial lines (per stream, split UTF-8) until newline, completion or close", async () => {
    const { p, lines, raw } = printer();
    const e = enc("café\n");
    p.write(vertex(A, "a", { started: T0 }));
    p.write(log(A, "out", T0 + 1000));
    p.write(log(A, "err line\n", T0 + 1500, 2));
    p.write(log(A, e.subarray(0, 4), T0 + 2000, 2));
    expect(raw()).toBe("#1 a\n#1 1.500 err line\n");
    p.write(log(A, e.subarray(4), T0 + 2500, 2));
    p.write(log(A, " put", T0 + 12_345));
    await p.close();
    expect(lines()).toEqual(["#1 a", "#1 1.500 err line", "#1 2.000 café", "#1 1.000 out put"]);
  });

  test("log times drop decimals as they grow; vertices without a start use startTime", async () => {
    const { p, lines } = printer();
    p.write(vertex(A, "a", { started: T0 }));
    p.write(log(A, "x\n", T0 + 12_345));
    p.write(log(A, "y\n", T0 + 123_456));
    p.write(log(B, "z\n", T0 + 2_000));
    await p.close();
    expect(lines()).toEqual(["#1 a", "#1 12.35 x", "#1 123.5 y", "#1 ...", "", `#2 ${B}`, "#2 2.000 z"]);
  });

  test("status lines are throttled per id with an injected clock, completions always print once", async () => {
    let now = T0;
    const { p, lines } = printer({ now: () => now });
    const status = (id: string, current: number, fields: { total?: number; completed?: number } = {}): ProgressEvent => ({
      type: "status",
      vertex: A,
      id,
      current,
      started: T0,
      ...fields,
    });
    p.write(vertex(A, "docker-image://docker.io/library/busybox:latest", { started: T0 }));
    p.write(status("sha256:abcd", 0, { total: 45_600_000 }));
    now = T0 + 50;
    p.write(status("sha256:abcd", 1_000_000, { total: 45_600_000 })); // throttled
    p.write(status("extracting", 0)); // another id: not throttled
    now = T0 + 99;
    p.write(status("sha256:abcd", 2_000_000, { total: 45_600_000 })); // throttled
    now = T0 + 1200;
    p.write(status("sha256:abcd", 12_345_678, { total: 45_600_000 }));
    now = T0 + 1210;
    p.write(status("sha256:abcd", 45_600_000, { total: 45_600_000, completed: T0 + 1300 }));
    p.write(status("sha256:abcd", 45_600_000, { total: 45_600_000, completed: T0 + 1300 })); // repeat
    p.write(status("transferring context:", 2_100_000, { completed: T0 + 300 }));
    p.write(status("transferring context:", 37, { completed: T0 + 5 }));
    await p.close();
    expect(lines()).toEqual([
      "#1 docker-image://docker.io/library/busybox:latest",
      "#1 sha256:abcd 0B / 45.60MB",
      "#1 extracting 0.1s",
      "#1 sha256:abcd 12.35MB / 45.60MB 1.2s",
      "#1 sha256:abcd 45.60MB / 45.60MB 1.3s done",
      "#1 transferring context: 2.10MB 0.3s done",
    ]);
  });

  test("ignores events after close", async () => {
    const { p, raw } = printer();
    await p.close();
    p.write(vertex(A, "a", { started: T0 }));
    expect(raw()).toBe("");
  });

  test("formatBytes uses decimal units like BuildKit", () => {
    expect([0, 37, 999, 1000, 2_100_000, 45_600_000, 1.5e9].map(formatBytes)).toEqual(["0B", "37B", "999B", "1.00kB", "2.10MB", "45.60MB", "1.50GB"]);
  });
});
