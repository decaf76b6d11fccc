import { describe, expect, test } from "bun:test";
import { createProgressState } from "../../../src/core/progress/collector.ts";
import { createLogKeeper } from "../../../src/ui/tty/logs.ts";
import { createRateTracker } from "../../../src/ui/tty/rates.ts";
import { headerLine, statusRow, vertexRow } from "../../../src/ui/tty/rows.ts";
import { formatDuration, palette, sanitizeLine, shortID, truncate } from "../../../src/ui/tty/text.ts";
import { digest, log, T0, vertex } from "./tty-harness.ts";

const A = digest("a");
const plain = palette(true);

function vertexState(events: Parameters<ReturnType<typeof createProgressState>["apply"]>[0][]) {
  const state = createProgressState({ logTailLines: 16 });
  for (const e of events) state.apply(e);
  const v = state.get(A);
  if (v === undefined) throw new Error("no vertex");
  return { v, counts: state.counts() };
}

describe("tty rows", () => {
  test("a vertex row carries its state word and duration after a tab", () => {
    const row = (fields: Parameters<typeof vertex>[2]) => vertexRow(vertexState([vertex(A, "RUN x", fields)]).v, T0 + 2500, 4);
    expect(row({ started: T0 })).toMatchObject({ title: "RUN x\t2.5s", state: "running" });
    expect(row({ started: T0, completed: T0 + 1234 })).toMatchObject({ title: "RUN x\tDONE 1.2s", state: "done" });
    expect(row({ started: T0, completed: T0, cached: true })).toMatchObject({ title: "RUN x\tCACHED", state: "cached" });
    expect(row({ started: T0, completed: T0 + 300, error: "exit code: 1" })).toEqual({ title: "RUN x\tERROR 0.3s", state: "error", error: "exit code: 1", logs: [] });
    expect(row({ started: T0, completed: T0 + 300, error: "context canceled" })).toMatchObject({ title: "RUN x\tCANCELED", state: "canceled" });
    expect(row({ started: T0, completed: T0 + 300, canceled: true })).toMatchObject({ state: "canceled" });
  });

  test("a running vertex row has its last log lines, made safe for one screen row", () => {
    const { v } = vertexState([vertex(A, "RUN x", { started: T0 }), log(A, "one\ntwo\n\tthree\x1b[0m\n\nfour\r\nfi", T0)]);
    expect(vertexRow(v, T0, 4).logs).toEqual(["two", "    three", "four", "fi"]);
    expect(vertexRow(v, T0, 2).logs).toEqual(["four", "fi"]);
  });

  test("a status row shows id, bytes, rate and elapsed time", () => {
    const id = `sha256:0123456789ab${"c".repeat(52)}`;
    const now = T0 + 2000;
    expect(statusRow({ id, current: 12_300_000, total: 45_600_000, started: T0 }, { now, rate: 8_100_000, vertexFinished: false })).toEqual({
      title: "sha256:0123456789ab 12.30MB / 45.60MB 8.10MB/s\t2.0s",
      done: false,
    });
    expect(statusRow({ id: "transferring ctx", current: 2048 }, { now, vertexFinished: false }).title).toBe("transferring ctx 2.05kB");
    expect(statusRow({ id: "resolve image", current: 0, started: T0, completed: T0 + 500 }, { now, vertexFinished: false })).toEqual({ title: "resolve image\tDONE 0.5s", done: true });
    // Done: the average rate over the transfer.
    expect(statusRow({ id, current: 40_000_000, total: 40_000_000, started: T0, completed: T0 + 4000 }, { now, rate: 1, vertexFinished: true }).title).toBe(
      "sha256:0123456789ab 40.00MB / 40.00MB 10.00MB/s\tDONE 4.0s",
    );
    expect(statusRow({ id: "x", current: 5 }, { now, vertexFinished: true })).toEqual({ title: "x 5B\tDONE", done: true });
  });

  test("the header has elapsed time, done/total and the outcome", () => {
    const { counts } = vertexState([vertex(A, "RUN x", { started: T0, completed: T0 + 1 }), vertex(digest("b"), "RUN y", {})]);
    expect(headerLine(counts, 12_345, { columns: 80, palette: plain })).toBe("[+] Building 12.3s (1/2)");
    expect(headerLine(counts, 12_345, { columns: 80, palette: plain, outcome: "FINISHED" })).toBe("[+] Building 12.3s (1/2) FINISHED");
    expect(headerLine(counts, 12_345, { columns: 20, palette: plain, outcome: "ERROR" })).toBe("[+] Building 12.3s…");
    expect(headerLine(counts, 0, { columns: 80, palette: palette(false), outcome: "ERROR" })).toBe("\x1b[1m[+] Building 0.0s (1/2)\x1b[22m \x1b[31mERROR\x1b[39m");
  });
});

describe("tty text", () => {
  test("truncate counts terminal columns and marks the cut", () => {
    expect(truncate("hello", 5)).toBe("hello");
    expect(truncate("hello world", 6)).toBe("hello…");
    expect(truncate("日本語テキスト", 7)).toBe("日本語…");
    expect(truncate("abc", 0)).toBe("");
  });

  test("sanitizeLine keeps what a terminal shows last", () => {
    expect(sanitizeLine("10%\r50%\r100%")).toBe("100%");
    expect(sanitizeLine("done\r")).toBe("done");
    expect(sanitizeLine("\x1b[1;32mok\x1b[0m\x07")).toBe("ok");
    expect(sanitizeLine("\x1b]0;title\x07text")).toBe("text");
  });

  test("short ids and durations", () => {
    expect(shortID(`sha256:${"a".repeat(64)}`)).toBe("sha256:aaaaaaaaaaaa");
    expect(shortID("transferring context")).toBe("transferring context");
    expect(formatDuration(0)).toBe("0.0s");
    expect(formatDuration(123_456)).toBe("123.5s");
    expect(formatDuration(-5)).toBe("0.0s");
  });
});

describe("tty rates and logs", () => {
  test("rates follow the last two seconds of samples and decay when a transfer stalls", () => {
    const r = createRateTracker();
    r.observe("k", 0, 0);
    expect(r.rate("k", 100)).toBeUndefined(); // too little to go on
    r.observe("k", 1_000_000, 1000);
    expect(r.rate("k", 1000)).toBe(1_000_000);
    r.observe("k", 5_000_000, 3000);
    r.observe("k", 7_000_000, 4000);
    expect(r.rate("k", 4000)).toBe(2_000_000); // (7M - 1M) / 3 s: the sample at 0 fell out, the one at 1000 anchors
    expect(r.rate("k", 8000)).toBeLessThan(1_000_000); // nothing for 4 s
    expect(r.rate("other", 8000)).toBeUndefined();
  });

  test("full logs are kept for unfinished steps, bounded, and dropped on success", () => {
    const logs = createLogKeeper({ maxBytesPerVertex: 10 });
    const enc = (s: string) => new TextEncoder().encode(s);
    logs.add(A, enc("12345"));
    logs.add(A, enc("67890abcdef"));
    expect(logs.text(A)).toBe("(6 earlier bytes not kept)\n7890abcdef\n");
    logs.drop(A);
    expect(logs.text(A)).toBe("");
  });
});
