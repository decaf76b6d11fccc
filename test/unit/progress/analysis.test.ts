import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { sha256 } from "../../../src/core/digest.ts";
import type { Digest } from "../../../src/core/digest.ts";
import { analyzeTrace, formatTraceTable, summaryLine, toChromeTrace } from "../../../src/core/progress/analysis.ts";
import type { ChromeTraceEvent } from "../../../src/core/progress/analysis.ts";
import type { ProgressEvent } from "../../../src/core/progress/events.ts";
import { readTrace } from "../../../src/core/progress/trace.ts";
import type { TimedProgressEvent } from "../../../src/core/progress/trace.ts";
import { REPO_ROOT } from "../../paths.ts";

const T0 = 1_700_000_000_000;
const TRACES = resolve(REPO_ROOT, "test/fixtures/traces");
const d = (s: string): Digest => sha256(s);

async function trace(name: string): Promise<TimedProgressEvent[]> {
  const events: TimedProgressEvent[] = [];
  for await (const e of readTrace(`${TRACES}/${name}.jsonl`)) events.push(e);
  return events;
}

/** A step as the two events a build sends: started, then completed. */
function step(name: string, inputs: string[], start: number, end?: number, extra: Partial<Extract<ProgressEvent, { type: "vertex" }>> = {}): ProgressEvent[] {
  const base = { type: "vertex" as const, digest: d(name), name, inputs: inputs.map(d) };
  const started: ProgressEvent = { ...base, started: T0 + start };
  return end === undefined ? [started] : [started, { ...base, started: T0 + start, completed: T0 + end, ...extra }];
}

const names = (a: ReturnType<typeof analyzeTrace>, digests: readonly Digest[]) => digests.map((x) => a.steps.find((s) => s.digest === x)?.name);

describe("analyzeTrace on recorded traces", () => {
  test("parallel: A then B, C, D side by side, then E", async () => {
    const a = analyzeTrace(await trace("parallel"));
    expect(a.steps.map((s) => [s.name.slice(0, 20), s.offset, s.duration, s.critical])).toEqual([
      ["local://rootfs", 0, 300, true],
      ["RUN sh -c 'seq 1 40;", 300, 1200, false],
      ["RUN sh -c 'echo comp", 310, 590, false],
      ["RUN sh -c 'wget -O /", 320, 1980, true],
      ["RUN sh -c 'cat /b /c", 2300, 300, true],
    ]);
    expect(a.wallMs).toBe(2600);
    expect(a.busyMs).toBe(4370);
    expect(a.parallelism).toBeCloseTo(4370 / 2600, 10);
    expect(a.maxConcurrency).toBe(3);
    expect(a.criticalPath.durationMs).toBe(2580);
    expect(names(a, a.criticalPath.digests)).toEqual(["local://rootfs", "RUN sh -c 'wget -O /out http://mirror/big.tar'", "RUN sh -c 'cat /b /c /d > /all'"]);
    expect(summaryLine(a)).toBe("wall 2.6s, busy 4.4s, parallelism 1.7 (max 3), critical path 2.6s");
  });

  test("cached: a chain of cache hits after one local source", async () => {
    const a = analyzeTrace(await trace("cached"));
    expect(a.steps.map((s) => [s.offset, s.duration, s.cached])).toEqual([
      [0, 35, false],
      [40, 0, true],
      [41, 0, true],
      [42, 0, true],
    ]);
    expect([a.wallMs, a.busyMs, a.maxConcurrency, a.criticalPath.durationMs]).toEqual([42, 35, 1, 35]);
    expect(a.criticalPath.digests).toHaveLength(4);
    expect(a.parallelism).toBeCloseTo(35 / 42, 10);
    expect(summaryLine(a)).toBe("wall 42ms, busy 35ms, parallelism 0.8 (max 1), critical path 35ms");
  });

  test("failing: the failed and the canceled step both count; the critical path ends at the failed one", async () => {
    const a = analyzeTrace(await trace("failing"));
    expect(a.steps.map((s) => [s.offset, s.duration, s.cached, s.error !== undefined, s.canceled])).toEqual([
      [0, 0, true, false, false],
      [100, 800, false, true, false],
      [110, 795, false, true, true],
    ]);
    expect([a.wallMs, a.busyMs, a.maxConcurrency, a.criticalPath.durationMs]).toEqual([905, 1595, 2, 800]);
    // The canceled sleep completed last, but the build's time went to the step that failed.
    expect(names(a, a.criticalPath.digests)).toEqual(["local://rootfs", "RUN sh -c 'for i in $(seq 1 12); do echo line $i; done; echo fatal: no such file >&2; exit 2'"]);
  });
});

describe("analyzeTrace on built graphs", () => {
  test("diamond: the longer branch is critical, although the shorter one finished later in order", () => {
    const events = [...step("a", [], 0, 100), ...step("long", ["a"], 100, 900), ...step("short", ["a"], 100, 300), ...step("join", ["short", "long"], 900, 1000)];
    const a = analyzeTrace(events);
    expect(names(a, a.criticalPath.digests)).toEqual(["a", "long", "join"]);
    expect(a.criticalPath.durationMs).toBe(1000);
    expect([a.wallMs, a.busyMs, a.maxConcurrency]).toEqual([1000, 1200, 2]);
  });

  test("the critical path ends at the last step to complete, not the longest chain", () => {
    const events = [...step("slow", [], 0, 5000), ...step("x", [], 0, 100), ...step("y", ["x"], 100, 5100)];
    const a = analyzeTrace(events);
    expect(names(a, a.criticalPath.digests)).toEqual(["x", "y"]);
    expect(a.criticalPath.durationMs).toBe(5100);
    expect(a.maxConcurrency).toBe(2);
  });

  test("touching steps do not overlap; unfinished steps have no duration", () => {
    const events = [...step("a", [], 0, 100), ...step("b", ["a"], 100, 200), ...step("c", ["b"], 200)];
    const a = analyzeTrace(events);
    expect(a.maxConcurrency).toBe(1);
    expect(a.steps.map((s) => s.duration)).toEqual([100, 100, undefined]);
    expect(a.wallMs).toBe(200);
    expect(names(a, a.criticalPath.digests)).toEqual(["a", "b"]);
    expect(formatTraceTable(a).at(-2)).toBe("     0.20s        -  running   c");
  });

  test("an empty trace", () => {
    const a = analyzeTrace([]);
    expect(a).toMatchObject({ steps: [], wallMs: 0, busyMs: 0, parallelism: 0, maxConcurrency: 0, criticalPath: { digests: [], durationMs: 0 } });
    expect(toChromeTrace([]).traceEvents.filter((e) => e.ph === "X")).toEqual([]);
  });
});

describe("formatTraceTable", () => {
  test("rows with the critical path marked, then the summary", async () => {
    const lines = formatTraceTable(analyzeTrace(await trace("failing")));
    expect(lines).toEqual([
      "     START DURATION  STATE     STEP",
      "*    0.00s    0.00s  cached    local://rootfs",
      "*    0.10s    0.80s  error     RUN sh -c 'for i in $(seq 1 12); do echo line $i; done; echo fatal: no such file >&2; exit 2'",
      "     0.11s    0.80s  canceled  RUN sh -c 'sleep 10'",
      "wall 905ms, busy 1.6s, parallelism 1.8 (max 2), critical path 800ms",
    ]);
  });
});

describe("toChromeTrace", () => {
  test("complete events on lanes that never hold two overlapping steps, with lane names", async () => {
    const events = await trace("parallel");
    const json = JSON.parse(JSON.stringify(toChromeTrace(events))) as { traceEvents: ChromeTraceEvent[]; displayTimeUnit: string };
    expect(json.displayTimeUnit).toBe("ms");
    const complete = json.traceEvents.filter((e) => e.ph === "X");
    expect(complete).toHaveLength(5);
    for (const e of complete) {
      expect(typeof e.name).toBe("string");
      expect(Number.isInteger(e.ts)).toBe(true);
      expect(Number.isInteger(e.dur)).toBe(true);
      expect(e.pid).toBe(1);
      expect(e.tid).toBeGreaterThanOrEqual(1);
      expect(e.args).toMatchObject({ digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), cached: false });
    }
    expect(complete.map((e) => [e.name.slice(0, 14), e.ts, e.dur, e.tid])).toEqual([
      ["local://rootfs", 0, 300_000, 1],
      ["RUN sh -c 'seq", 300_000, 1_200_000, 1],
      ["RUN sh -c 'ech", 310_000, 590_000, 2],
      ["RUN sh -c 'wge", 320_000, 1_980_000, 3],
      ["RUN sh -c 'cat", 2_300_000, 300_000, 1],
    ]);
    for (const x of complete)
      for (const y of complete) {
        if (x === y || x.tid !== y.tid) continue;
        const [xs, xe, ys, ye] = [x.ts ?? 0, (x.ts ?? 0) + (x.dur ?? 0), y.ts ?? 0, (y.ts ?? 0) + (y.dur ?? 0)];
        expect(xe <= ys || ye <= xs).toBe(true);
      }
    const meta = json.traceEvents.filter((e) => e.ph === "M");
    expect(meta.find((e) => e.name === "process_name")?.args).toEqual({ name: "buildkit build" });
    expect(meta.filter((e) => e.name === "thread_name").map((e) => [e.tid, e.args.name])).toEqual([
      [1, "lane 1"],
      [2, "lane 2"],
      [3, "lane 3"],
    ]);
  });

  test("cached, failed and unfinished steps are marked in args", () => {
    const events = [...step("hit", [], 0, 0, { cached: true }), ...step("bad", ["hit"], 0, 50, { error: "exit code: 1" }), ...step("stuck", ["hit"], 10), { ...step("late", [], 90, 100)[1]! }];
    const x = toChromeTrace(events).traceEvents.filter((e) => e.ph === "X");
    expect(x.map((e) => [e.name, e.args.cached, e.args.error, e.args.incomplete, e.dur])).toEqual([
      ["hit", true, undefined, undefined, 0],
      ["bad", false, "exit code: 1", undefined, 50_000],
      ["stuck", false, undefined, true, 90_000],
      ["late", false, undefined, undefined, 10_000],
    ]);
  });
});
