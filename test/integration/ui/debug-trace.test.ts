// `buildkit debug trace`: the binary run on recorded traces, its output read line by line.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BUN, CLI, REPO_ROOT } from "../../paths.ts";

const TRACES = resolve(REPO_ROOT, "test/fixtures/traces");

async function buildkit(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([BUN, CLI, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1", BUILDKIT_DEBUG: "0", ...env } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

describe("buildkit debug trace", () => {
  test("prints the step table with the critical path and the summary", async () => {
    const run = await buildkit(["debug", "trace", `${TRACES}/parallel.jsonl`]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")).toEqual([
      "     START DURATION  STATE     STEP",
      "*    0.00s    0.30s  done      local://rootfs",
      "     0.30s    1.20s  done      RUN sh -c 'seq 1 40; sleep 1'",
      "     0.31s    0.59s  done      RUN sh -c 'echo compiling; sleep 0.5'",
      "*    0.32s    1.98s  done      RUN sh -c 'wget -O /out http://mirror/big.tar'",
      "*    2.30s    0.30s  done      RUN sh -c 'cat /b /c /d > /all'",
      "wall 2.6s, busy 4.4s, parallelism 1.7 (max 3), critical path 2.6s",
      "",
    ]);
  });

  test("marks cached steps", async () => {
    const run = await buildkit(["debug", "trace", `${TRACES}/cached.jsonl`, "--format", "table"]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.slice(1, -1).map((l) => l.slice(0, 1) + l.slice(21, 29).trim())).toEqual(["*done", "*cached", "*cached", "*cached"]);
    expect(lines.at(-1)).toBe("wall 42ms, busy 35ms, parallelism 0.8 (max 1), critical path 35ms");
  });

  test("--format chrome writes Chrome trace JSON to stdout or --output", async () => {
    const run = await buildkit(["debug", "trace", `${TRACES}/failing.jsonl`, "--format", "chrome"]);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as { traceEvents: { ph: string; name: string; ts?: number; dur?: number; pid: number; tid: number; args: Record<string, unknown> }[] };
    const x = json.traceEvents.filter((e) => e.ph === "X");
    expect(x.map((e) => [e.ts, e.dur, e.tid, e.args.cached])).toEqual([
      [0, 0, 1, true],
      [100_000, 800_000, 1, false],
      [110_000, 795_000, 2, false],
    ]);
    expect(json.traceEvents.filter((e) => e.ph === "M").map((e) => e.name)).toEqual(["process_name", "thread_name", "thread_sort_index", "thread_name", "thread_sort_index"]);

    const dir = mkdtempSync(join(tmpdir(), "debug-trace-"));
    try {
      const out = join(dir, "trace.json");
      const toFile = await buildkit(["debug", "trace", `${TRACES}/failing.jsonl`, "--format", "chrome", "--output", out]);
      expect(toFile.code).toBe(0);
      expect(toFile.stdout).toBe("");
      expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(json);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("--replay off a terminal prints plain progress lines", async () => {
    const run = await buildkit(["debug", "trace", `${TRACES}/failing.jsonl`, "--replay", "--speed", "20"]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines).toContain("#1 CACHED");
    expect(lines).toContain("#2 ERROR: process \"sh -c 'for i in $(seq 1 12); do echo line $i; done; echo fatal: no such file >&2; exit 2'\" did not complete successfully: exit code: 2");
    expect(lines).toContain("#3 CANCELED");
    expect(lines.filter((l) => /^#2 \d+\.\d+ line \d+$/.test(l))).toHaveLength(12);
  });

  test("usage errors exit 2, a missing file exits 1, each with one line", async () => {
    const bad = await buildkit(["debug", "trace", `${TRACES}/cached.jsonl`, "--format", "svg"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: --format must be one of table, chrome, not "svg"\n');
    const speed = await buildkit(["debug", "trace", `${TRACES}/cached.jsonl`, "--replay", "--speed", "0"]);
    expect(speed.code).toBe(2);
    const missing = await buildkit(["debug", "trace", "/nonexistent/trace.jsonl"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("error: reading trace /nonexistent/trace.jsonl: no such file\n");
    const none = await buildkit(["debug", "trace"]);
    expect(none.code).toBe(2);
  });
});
