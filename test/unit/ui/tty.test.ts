import { describe, expect, test } from "bun:test";
import type { ProgressWriter } from "../../../src/core/progress/events.ts";
import { createTTYDisplay, shouldUseTTY } from "../../../src/ui/tty.ts";
import type { TTYDisplayOptions } from "../../../src/ui/tty.ts";
import { digest, FakeClock, FakeTerminal, frameLines, log, status, T0, vertex } from "./tty-harness.ts";

const A = digest("a");
const B = digest("b");
const C = digest("c");

function display(term: FakeTerminal, opts: TTYDisplayOptions = {}): { d: ProgressWriter; clock: FakeClock } {
  const clock = new FakeClock();
  const d = createTTYDisplay(term, { now: clock.now, timers: clock.timers, noColor: true, ...opts });
  return { d, clock };
}

const lastFrame = (term: FakeTerminal): string[] => frameLines(term.writes.at(-1) ?? "");

describe("tty display: frames", () => {
  test("the first frame waits refreshMs, so a fast build prints only its final tree", async () => {
    const term = new FakeTerminal();
    const { d, clock } = display(term);
    d.write(vertex(A, "local://rootfs", { started: T0, completed: T0 + 5 }));
    d.write(vertex(B, "RUN true", { started: T0 + 5 }));
    await clock.advance(99);
    expect(term.writes).toHaveLength(0);
    await clock.advance(1);
    expect(term.writes).toHaveLength(1);
    expect(lastFrame(term)).toEqual([
      "[+] Building 0.1s (1/2)",
      expect.stringMatching(/^✔ local:\/\/rootfs +DONE 0\.0s$/),
      expect.stringMatching(/^. RUN true +0\.1s$/),
    ]);

    const fast = new FakeTerminal();
    const f = display(fast);
    f.d.write(vertex(A, "RUN true", { started: T0, completed: T0 + 20 }));
    await f.clock.advance(30);
    await f.d.close();
    expect(fast.writes).toHaveLength(1);
    expect(frameLines(fast.output)).toEqual(["[+] Building 0.0s (1/1) FINISHED", expect.stringMatching(/^✔ RUN true +DONE 0\.0s$/)]);
  });

  test("rate limited: many events within 100 ms make at most 2 frames", async () => {
    const term = new FakeTerminal();
    const { d, clock } = display(term);
    d.write(vertex(A, "RUN seq 1 200", { started: T0 }));
    for (let i = 0; i < 200; i++) {
      d.write(log(A, `${i}\n`, clock.time));
      await clock.advance(0.5);
    }
    expect(term.writes.length).toBeLessThanOrEqual(2);
    expect(term.writes.length).toBeGreaterThanOrEqual(1);
  });

  test("redraws about every refreshMs while a step runs, never when nothing changed", async () => {
    const term = new FakeTerminal();
    const { d, clock } = display(term);
    d.write(vertex(A, "RUN sleep 1", { started: T0 }));
    await clock.advance(1000);
    expect(term.writes.length).toBeGreaterThanOrEqual(9);
    expect(term.writes.length).toBeLessThanOrEqual(10);
    d.write(vertex(A, "RUN sleep 1", { started: T0, completed: T0 + 1000 }));
    await clock.advance(100);
    const settled = term.writes.length;
    await clock.advance(5000);
    expect(term.writes).toHaveLength(settled);
    // An event that changes nothing on screen writes nothing (the header's clock moves only while steps run).
    d.write(vertex(A, "RUN sleep 1", { started: T0, completed: T0 + 1000 }));
    await clock.advance(500);
    expect(term.writes).toHaveLength(settled);
  });

  test("rows are cut to the terminal width (60 columns)", async () => {
    const term = new FakeTerminal(60, 40);
    const { d, clock } = display(term);
    const long = `RUN sh -c '${"echo a very long command line; ".repeat(5)}'`;
    d.write(vertex(A, long, { started: T0 }));
    d.write(log(A, `${"x".repeat(200)}\n`, T0 + 1));
    d.write(status(A, `sha256:${"f".repeat(64)}`, { current: 12_300_000, total: 45_600_000, started: T0 }));
    await clock.advance(100);
    const lines = lastFrame(term);
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(Bun.stringWidth(line)).toBeLessThanOrEqual(59);
    expect(lines[1]).toMatch(/^. RUN sh -c 'echo a very long command line; .*… +0\.1s$/);
    expect(lines[2]).toMatch(/^ {2}› x+…$/);
    expect(lines[3]).toMatch(/^ {2}. sha256:ffffffffffff 12\.30MB \/ 45\.60MB +0\.1s$/);
    await d.close();
    for (const line of frameLines(term.output.slice(term.output.lastIndexOf("[+]")))) expect(Bun.stringWidth(line)).toBeLessThanOrEqual(59);
  });

  test("status rows show bytes and a transfer rate", async () => {
    const term = new FakeTerminal(100, 40);
    const { d, clock } = display(term);
    const id = `sha256:abcdef012345${"0".repeat(52)}`;
    d.write(vertex(A, "pulling busybox", { started: T0 }));
    d.write(status(A, id, { current: 0, total: 45_600_000, started: T0 }));
    await clock.advance(1000);
    d.write(status(A, id, { current: 8_100_000, total: 45_600_000, started: T0 }));
    await clock.advance(100);
    expect(lastFrame(term)[2]).toMatch(/^ {2}. sha256:abcdef012345 8\.10MB \/ 45\.60MB 7\.36MB\/s +1\.1s$/);
    d.write(status(A, id, { current: 45_600_000, total: 45_600_000, started: T0, completed: T0 + 4000 }));
    d.write(vertex(A, "pulling busybox", { started: T0, completed: T0 + 4000 }));
    await d.close();
    expect(frameLines(term.writes.at(-1) ?? "")[2]).toMatch(/^ {2}✔ sha256:abcdef012345 45\.60MB \/ 45\.60MB 11\.40MB\/s +DONE 4\.0s$/);
  });

  test("the last 4 log lines show under a running step only", async () => {
    const term = new FakeTerminal();
    const { d, clock } = display(term);
    d.write(vertex(A, "RUN seq 1 10", { started: T0 }));
    d.write(log(A, "1\n2\n3\n4\n5\n6\n\x1b[31m7\x1b[0m\nprogress 10%\rprogress 90%\n", T0 + 1));
    await clock.advance(100);
    await clock.advance(100); // listr2 shows output from the task's second frame on
    expect(lastFrame(term).slice(1)).toEqual([expect.stringMatching(/^. RUN seq 1 10 +0\.2s$/), "  › 5", "  › 6", "  › 7", "  › progress 90%"]);
    d.write(vertex(A, "RUN seq 1 10", { started: T0, completed: T0 + 300 }));
    await clock.advance(100);
    expect(lastFrame(term).slice(1)).toEqual([expect.stringMatching(/^✔ RUN seq 1 10 +DONE 0\.3s$/)]);
  });

  test("a live frame taller than the terminal keeps the header and the newest rows", async () => {
    const term = new FakeTerminal(80, 8);
    const { d, clock } = display(term);
    for (let i = 0; i < 20; i++) d.write(vertex(digest(`v${i}`), `step ${i}`, { started: T0 + i, completed: i < 19 ? T0 + i + 1 : undefined }));
    await clock.advance(100);
    const live = lastFrame(term);
    expect(live).toHaveLength(7);
    expect(live[0]).toBe("[+] Building 0.1s (19/20)");
    expect(live.at(-1)).toMatch(/^. step 19 /);
    await d.close();
    const final = frameLines(term.writes.at(-1) ?? "");
    expect(final).toHaveLength(21);
  });
});

describe("tty display: terminal", () => {
  test("NO_COLOR: no colour codes; colours otherwise", async () => {
    for (const noColor of [true, false]) {
      const term = new FakeTerminal();
      const { d, clock } = display(term, { noColor });
      d.write(vertex(A, "RUN true", { started: T0, completed: T0 + 10 }));
      d.write(vertex(B, "RUN false", { started: T0, completed: T0 + 10, error: "exit code: 1" }));
      await clock.advance(100);
      await d.close();
      expect(/\x1b\[\d+(;\d+)*m/.test(term.output)).toBe(!noColor);
    }
  });

  test("a resize redraws at the new width, erasing the old frame's re-wrapped rows", async () => {
    const term = new FakeTerminal(80, 40);
    const { d, clock } = display(term);
    d.write(vertex(A, "RUN a", { started: T0, completed: T0 + 10 }));
    d.write(vertex(B, "RUN b", { started: T0, completed: T0 + 10 }));
    await clock.advance(100);
    expect(lastFrame(term)[1]).toHaveLength(79);
    term.resize(40, 40);
    await clock.advance(100);
    const frame = term.writes.at(-1) ?? "";
    // Header (short: 1 row) + two 79-wide rows that now take 2 rows each.
    expect(frame).toContain("\r\x1b[5A");
    for (const line of frameLines(frame)) expect(Bun.stringWidth(line)).toBeLessThanOrEqual(39);
  });

  test("others' writes to the stream go above the frame", async () => {
    const term = new FakeTerminal();
    const { d, clock } = display(term);
    d.write(vertex(A, "RUN a", { started: T0 }));
    await clock.advance(100);
    const before = term.writes.length;
    term.write("exporting to image\n");
    expect(term.writes.slice(before)).toEqual(["\r\x1b[2A\x1b[J", "exporting to image\n"]);
    await clock.advance(100);
    expect(term.writes.at(-1)).not.toContain("\x1b[2A"); // drawn below, nothing to move over
    await d.close();
    term.write("after\n");
    expect(term.writes.at(-1)).toBe("after\n"); // released on close
  });

  test("close prints the full tree, then each failed step's whole output", async () => {
    const term = new FakeTerminal();
    const { d, clock } = display(term);
    d.write(vertex(A, "local://rootfs", { started: T0, completed: T0, cached: true }));
    d.write(vertex(B, "RUN make", { started: T0 + 10 }));
    d.write(vertex(C, "RUN sleep 5", { started: T0 + 10 }));
    for (let i = 1; i <= 20; i++) d.write(log(B, `make line ${i}\n`, T0 + 10 + i));
    d.write(log(B, "error: missing separator", T0 + 40, 2));
    await clock.advance(100);
    d.write(vertex(B, "RUN make", { started: T0 + 10, completed: T0 + 800, error: "exit code: 2" }));
    d.write(vertex(C, "RUN sleep 5", { started: T0 + 10, completed: T0 + 810, canceled: true }));
    await d.close(new Error("build failed"));
    const out = frameLines(term.output.slice(term.output.lastIndexOf("[+]")));
    expect(out.slice(0, 5)).toEqual([
      "[+] Building 0.1s (3/3) ERROR",
      expect.stringMatching(/^✔ local:\/\/rootfs +CACHED$/),
      expect.stringMatching(/^✖ RUN make +ERROR 0\.8s$/),
      "  › exit code: 2",
      expect.stringMatching(/^↓ RUN sleep 5 +CANCELED$/),
    ]);
    expect(out.slice(5)).toEqual(["", "------", " > RUN make:", ...Array.from({ length: 20 }, (_, i) => `make line ${i + 1}`), "error: missing separator", "------"]);
    // The cursor, hidden while frames were drawn, is back before the logs.
    expect(term.output.indexOf("\x1b[?25l")).toBeGreaterThanOrEqual(0);
    expect(term.output.indexOf("\x1b[?25h")).toBeLessThan(term.output.indexOf("------"));
  });
});

describe("tty display: hostile text", () => {
  test("escape sequences in names, logs and errors never reach the terminal raw", async () => {
    const term = new FakeTerminal();
    const { d, clock } = display(term);
    const evil = "\x1b[2J\x1b]0;pwned\x07\x9b1m";
    d.write(vertex(A, `RUN ${evil} ${"x".repeat(100_000)}`, { started: T0 }));
    d.write(log(A, `${evil}\n`, T0 + 1));
    await clock.advance(100);
    d.write(vertex(A, `RUN ${evil} ${"x".repeat(100_000)}`, { started: T0, completed: T0 + 200, error: `failed ${evil}` }));
    await d.close(new Error("build failed"));
    // Only the display's own sequences (cursor moves, erase line, hide/show cursor) are left.
    const foreign = term.output.replace(/\x1b\[(\?25[lh]|\?2026[lh]|\d*[ABCDGHJK]|\d+;\d+H|2K)|\r/g, "");
    expect(foreign).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(term.output).toContain(" > RUN \\x1b[2J\\x1b]0;pwned\\x07\\x9b1m ");
    expect(term.output).toContain("failed \\x1b[2J");
    expect(Math.max(...term.output.split("\n").map((l) => l.length))).toBeLessThan(1000);
  });
});

describe("shouldUseTTY", () => {
  test("auto is tty on a terminal unless TERM=dumb; tty always; other modes never", () => {
    const tty = { isTTY: true };
    const pipe = { isTTY: false };
    expect(shouldUseTTY("auto", tty, { TERM: "xterm-256color" })).toBe(true);
    expect(shouldUseTTY("auto", tty, {})).toBe(true);
    expect(shouldUseTTY("auto", tty, { TERM: "dumb" })).toBe(false);
    expect(shouldUseTTY("auto", pipe, { TERM: "xterm" })).toBe(false);
    expect(shouldUseTTY("auto", {}, { TERM: "xterm" })).toBe(false);
    expect(shouldUseTTY("tty", pipe, { TERM: "dumb" })).toBe(true);
    for (const mode of ["plain", "rawjson", "quiet"]) expect(shouldUseTTY(mode, tty, { TERM: "xterm" })).toBe(false);
  });
});

describe("tty display: warnings", () => {
  test("a warning shows as `WARN: <short>` under its vertex, as BuildKit's display lists it", async () => {
    const term = new FakeTerminal();
    const { d, clock } = display(term);
    d.write(vertex(A, "[internal] load build definition from Dockerfile", { started: T0, completed: T0 + 5 }));
    d.write({ type: "warning", vertex: A, level: 1, short: "Empty continuation line found in: RUN a   b", detail: [] });
    await clock.advance(100);
    await d.close();
    const lines = frameLines(term.output);
    const at = lines.findIndex((l) => l.includes("load build definition from Dockerfile"));
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toContain("WARN: Empty continuation line found in: RUN a   b");
  });
});
