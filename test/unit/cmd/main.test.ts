import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import pkg from "../../../package.json" with { type: "json" };

const ROOT = resolve(import.meta.dir, "../../..");
const BUN = resolve(ROOT, "node_modules/.bin/bun");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `buildkit ARGS` as a user would, from source. */
async function buildkit(...args: string[]): Promise<Run> {
  const proc = Bun.spawn([BUN, "src/cmd/main.ts", ...args], {
    cwd: ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, BUILDKIT_DEBUG: "0" },
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

function expectUsageError(run: Run, message: RegExp): void {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe("");
  expect(run.stderr).toMatch(/^error: [^\n]+\n$/); // one line, no usage dump, no stack
  expect(run.stderr).toMatch(message);
}

describe("buildkit", () => {
  test("--version prints the package's version", async () => {
    for (const flag of ["--version", "-v"]) {
      const run = await buildkit(flag);
      expect(run).toEqual({ code: 0, stdout: `buildkit ${pkg.version}\n`, stderr: "" });
    }
  });

  test("the version command prints the same line", async () => {
    expect((await buildkit("version")).stdout).toBe(`buildkit ${pkg.version}\n`);
  });

  test("--help lists the commands", async () => {
    const run = await buildkit("--help");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("USAGE buildkit");
    expect(run.stdout).toMatch(/^\s+graph\b/m);
    expect(run.stdout).toMatch(/^\s+debug\b/m);
    expect(run.stdout).not.toContain("\x1b["); // no colours in a pipe
  });

  test("with no arguments it shows the usage", async () => {
    const run = await buildkit();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("USAGE buildkit");
  });

  test("--help works on a subcommand", async () => {
    const run = await buildkit("version", "--help");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("USAGE buildkit version");
  });

  test("an unknown command is a one-line usage error, exit 2", async () => {
    expectUsageError(await buildkit("frobnicate"), /unknown command "frobnicate"/);
  });

  test("an unknown flag is a one-line usage error, exit 2", async () => {
    expectUsageError(await buildkit("--frobnicate"), /unknown flag --frobnicate/);
    expectUsageError(await buildkit("version", "--frobnicate=1"), /unknown flag --frobnicate for "buildkit version"/);
  });

  test("--debug is accepted before or after the command", async () => {
    for (const args of [["--debug", "version"], ["version", "--debug"]]) {
      const run = await buildkit(...args);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`buildkit ${pkg.version}\n`);
    }
  });
});
