import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { VECTORS_DIR, BUN, REPO_ROOT } from "../../paths.ts";

const VECTORS = VECTORS_DIR;
// Runs the command on its own, as citty's runMain would from main.ts's registration.
const SCRIPT = `import c from "${REPO_ROOT}/src/cmd/debug.ts"; import { runMain } from "citty"; await runMain(c, { rawArgs: process.argv.slice(1) });`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function debug(args: string[], stdin: Uint8Array = new Uint8Array()): Promise<Run> {
  const proc = Bun.spawn([BUN, "-e", SCRIPT, ...args], { stdin, stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1", BUILDKIT_DEBUG: "0" } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

const vector = (name: string) => new Uint8Array(readFileSync(`${VECTORS}/${name}.pb`));
const opCount = (name: string) => (JSON.parse(readFileSync(`${VECTORS}/${name}.json`, "utf8")) as { ops: unknown[] }).ops.length;

function expectOneErrorLine(run: Run, prefix: string): void {
  expect(run.code).toBe(1);
  expect(run.stdout).toBe("");
  const lines = run.stderr.split("\n");
  expect(lines).toHaveLength(2); // one line, then the final newline
  expect(lines[0]).toStartWith(prefix);
  expect(lines[1]).toBe("");
  expect(run.stderr).not.toMatch(/\bat .*:\d+/); // no stack frames
}

describe("debug dump-llb", () => {
  test("reads stdin and prints one JSON line per op", async () => {
    const run = await debug(["dump-llb"], vector("15-multi-output"));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(opCount("15-multi-output"));
    for (const line of lines) expect(Object.keys(JSON.parse(line))).toEqual(["Op", "Digest", "OpMetadata"]);
  });

  test("reads --file and a positional path", async () => {
    for (const args of [["--file", `${VECTORS}/13-merge.pb`], ["-f", `${VECTORS}/13-merge.pb`], [`${VECTORS}/13-merge.pb`]]) {
      const run = await debug(["dump-llb", ...args]);
      expect(run.code).toBe(0);
      expect(run.stdout.trimEnd().split("\n")).toHaveLength(opCount("13-merge"));
    }
  });

  test("--dot prints a Graphviz digraph", async () => {
    const run = await debug(["dump-llb", "--dot"], vector("14-diff"));
    expect(run.code).toBe(0);
    expect(run.stdout).toStartWith("digraph {\n");
    expect(run.stdout).toEndWith("}\n");
  });

  test("an empty definition prints nothing", async () => {
    const run = await debug(["dump-llb"]);
    expect(run).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  test("a truncated definition is one error line, exit 1", async () => {
    const run = await debug(["dump-llb"], vector("15-multi-output").subarray(0, 100));
    expectOneErrorLine(run, "error: invalid definition:");
    expect(run.stderr).toBe("error: invalid definition: cannot decode: index out of range: 74 + 187 > 100\n");
  });

  test("a missing file is one error line, exit 1", async () => {
    const run = await debug(["dump-llb", "--file", "/nonexistent/def.pb"]);
    expectOneErrorLine(run, "error: reading /nonexistent/def.pb: ");
  });
});
