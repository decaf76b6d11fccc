// The CLI contract scripts rely on, checked by running the CLI as a user would (no runc needed):
// an empty definition fails, a closed stdout pipe ends quietly, bad flags are usage errors.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUN, CLI } from "../../paths.ts";

const dir = mkdtempSync(join(tmpdir(), "bk-cli-contract-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function buildkit(args: readonly string[], stdin: Uint8Array | "ignore" = "ignore"): Promise<Run> {
  const proc = Bun.spawn([BUN, CLI, ...args], {
    stdin: stdin === "ignore" ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, BUILDKIT_DEBUG: "0", BUILDKIT_HOST: "", NO_COLOR: "1" },
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** `buildkit ARGS | true`: the reader is gone before the command writes. */
async function intoClosedPipe(args: readonly string[]): Promise<Run> {
  const quoted = [BUN, CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const proc = Bun.spawn(["bash", "-c", `${quoted} | true; exit \${PIPESTATUS[0]}`], { stdout: "pipe", stderr: "pipe", env: { ...process.env, BUILDKIT_DEBUG: "0", NO_COLOR: "1" } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

describe.skipIf(process.platform !== "linux")("build: an empty definition", () => {
  test("empty stdin fails with exit 1 and creates no state", async () => {
    const root = join(dir, "empty-stdin");
    const r = await buildkit(["build", "--root", root], new Uint8Array());
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("error: reading definition: no definition: stdin is empty (pipe one in or pass --file)\n");
    expect(existsSync(root)).toBe(false);
  });

  test("an empty --file fails the same way", async () => {
    const file = join(dir, "empty.pb");
    await Bun.write(file, "");
    const r = await buildkit(["build", "--root", join(dir, "empty-file"), "--file", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: reading definition: no definition: ${file} is empty\n`);
  });
});

describe.skipIf(process.platform !== "linux")("a closed stdout pipe", () => {
  const root = join(dir, "pipe-root");
  for (const args of [["graph", "buildkit0"], ["graph", "--list"], ["du", "--root", root], ["du", "--root", root, "--verbose"], ["prune", "-v", "--root", root], ["--help"]]) {
    test(`buildkit ${args.join(" ")} | true: exit 0, nothing on stderr`, async () => {
      const r = await intoClosedPipe(args);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    });
  }
});

describe.skipIf(process.platform !== "linux")("build: flags checked before the build (exit 2, naming the flag)", () => {
  const garbage = new TextEncoder().encode("not a definition");
  const cases: [string, () => string[], RegExp][] = [
    ["a missing --ssh socket", () => ["--ssh", `default=${join(dir, "no-agent.sock")}`], /^error: --ssh default=.*no-agent\.sock: .* does not exist\n$/],
    ["an --ssh path that is not a socket", () => ["--ssh", `default=${dir}`], /^error: --ssh default=.*: .* is not a socket\n$/],
    ["a missing --config", () => ["--config", join(dir, "nope.toml")], /^error: --config: .*nope\.toml does not exist\n$/],
    ["a --config that is a directory", () => ["--config", dir], /^error: --config: .* is a directory, not a file\n$/],
    ["a --secret that is a directory", () => ["--secret", `id=s,src=${dir}`], /^error: --secret id=s,src=.*: .* is a directory, not a file\n$/],
    ["a local output under a missing directory", () => ["--output", `type=local,dest=${join(dir, "missing", "out")}`], /^error: --output type=local,dest=.*: directory .*missing does not exist\n$/],
    ["a tar output under a missing directory", () => ["--output", `type=tar,dest=${join(dir, "missing", "out.tar")}`], /^error: --output type=tar,dest=.*: directory .*missing does not exist\n$/],
    ["a metadata file under a missing directory", () => ["--metadata-file", join(dir, "missing", "m.json")], /^error: --metadata-file .*: directory .*missing does not exist\n$/],
  ];
  for (const [what, flags, message] of cases) {
    test(`daemonless: ${what}`, async () => {
      const root = join(dir, `flags-${what.replaceAll(" ", "-")}`);
      const r = await buildkit(["build", "--root", root, ...flags()], garbage);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
      expect(existsSync(root)).toBe(false);
      expect(existsSync(join(dir, "missing"))).toBe(false);
    });
    if (what.includes("--config")) continue; // refused with --addr whatever its value
    test(`--addr: ${what}`, async () => {
      const r = await buildkit(["build", "--addr", `unix://${join(dir, "no-daemon.sock")}`, "--root", join(dir, "client"), ...flags()], garbage);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
      expect(existsSync(join(dir, "missing"))).toBe(false);
    });
  }
});

describe("--help describes every flag", () => {
  /** The OPTIONS lines of a usage text, as [flags, description]. */
  const options = (usage: string) =>
    usage
      .slice(usage.indexOf("OPTIONS"))
      .split("\n")
      .slice(1)
      .filter((l) => l.trim().startsWith("-"))
      .map((l) => {
        const [flags = "", description = ""] = l.trim().split(/\s{2,}/);
        return [flags, description] as const;
      });

  test("build --help lists every output type and describes --no-cache", async () => {
    const { EXPORTER_TYPES } = await import("../../../src/core/exporters/index.ts");
    const r = await buildkit(["build", "--help"]);
    const output = options(r.stdout).find(([f]) => f.includes("--output"))?.[1] ?? "";
    for (const type of EXPORTER_TYPES) expect(output).toContain(`type=${type}`);
    expect(options(r.stdout).find(([f]) => f === "--no-cache")?.[1]).toMatch(/\w/);
  });

  test("graph --help: each flag says what it does", async () => {
    const r = await buildkit(["graph", "--help"]);
    for (const [flags, description] of options(r.stdout)) {
      expect(description, flags).toMatch(/\w/);
      expect(description, flags).not.toContain("example flag");
    }
  });
});

describe.skipIf(process.platform !== "linux" || Bun.which("flock") === null)("du while a build holds the state", () => {
  test("says it is waiting for the lock, then answers", async () => {
    const root = join(dir, "locked-root");
    await Bun.write(join(root, "lock"), "");
    const holder = Bun.spawn(["flock", join(root, "lock"), "sleep", "1.5"], { stdout: "ignore", stderr: "ignore" });
    await Bun.sleep(300);
    const r = await buildkit(["du", "--root", root]);
    await holder.exited;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`waiting for a build to release ${root}\n`);
    expect(r.stdout).toMatch(/Total:\s+0B\n$/);
  });
});
