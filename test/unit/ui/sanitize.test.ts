import { describe, expect, test } from "bun:test";
import { sha256 } from "../../../src/core/digest.ts";
import { createPlainPrinter } from "../../../src/ui/plain.ts";
import { cut, escapeControls, MAX_ERROR, MAX_NAME, safeError, safeLog, safeName } from "../../../src/ui/sanitize.ts";
import { oneLine } from "../../../src/cmd/exit.ts";

// Anything a terminal would act on: ESC, BEL, CR, backspace, C1 (8-bit CSI), DEL.
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
const HOSTILE = "a\x1b[2Jb\x1b]0;pwned\x07c\rd\x9b31me\x7f";

describe("sanitize", () => {
  test("controls are shown escaped, not passed to the terminal", () => {
    expect(escapeControls(HOSTILE)).toBe("a\\x1b[2Jb\\x1b]0;pwned\\x07c\\x0dd\\x9b31me\\x7f");
    expect(safeLog("one\ttwo\nthree\x1b[1A\n")).toBe("one\ttwo\nthree\\x1b[1A\n");
    expect(safeName("RUN a\n  b\x1b[H")).toBe("RUN a b\\x1b[H");
    expect(safeError("failed:\n\x1b]8;;http://x\x07link")).toBe("failed: \\x1b]8;;http://x\\x07link");
  });

  test("long names and errors are cut, saying how much was left out", () => {
    const huge = "x".repeat(3_000_000);
    expect(cut("short", 10)).toBe("short");
    expect(safeName(huge)).toBe(`${"x".repeat(MAX_NAME)}… (${3_000_000 - MAX_NAME} more characters)`);
    expect(safeError(`process "${huge}" failed`).length).toBeLessThan(MAX_ERROR + 40);
  });

  test("the CLI's error line is escaped and cut", () => {
    const line = oneLine(new Error(`process "sh -c ${"y".repeat(3_000_000)}${HOSTILE}" did not complete successfully`));
    expect(line.length).toBeLessThan(MAX_ERROR + 40);
    expect(line).not.toMatch(RAW);
    expect(oneLine(new Error(HOSTILE))).not.toMatch(RAW);
  });

  test("the plain display escapes names, logs, status ids and errors", async () => {
    let out = "";
    const p = createPlainPrinter({ write: (s) => (out += s) }, { startTime: 0, now: () => 0 });
    const d = sha256("v");
    p.write({ type: "vertex", digest: d, name: `RUN ${HOSTILE} ${"z".repeat(100_000)}`, inputs: [], started: 1 });
    p.write({ type: "log", vertex: d, stream: 1, data: new TextEncoder().encode(`${HOSTILE}\n\x1b]0;title\x07\n`), time: 2 });
    p.write({ type: "status", vertex: d, id: `pull ${HOSTILE}`, current: 1, started: 1, completed: 2 });
    p.write({ type: "vertex", digest: d, name: "x", inputs: [], started: 1, completed: 3, error: `failed ${HOSTILE}` });
    await p.close();
    expect(out).not.toMatch(RAW);
    expect(out).toContain("\\x1b]0;title\\x07");
    expect(Math.max(...out.split("\n").map((l) => l.length))).toBeLessThan(MAX_NAME + 100);
  });
});
