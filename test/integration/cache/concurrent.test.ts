// A prune racing with a build: the root lock makes the prune wait, the build loses nothing.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { copy, scratch } from "../../../src/core/llb/index.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "../build/harness.ts";
import { cli, records, sh } from "./cli.ts";

const run = requireIntegration("prune/build concurrency tests", { runc: true, busybox: true });
let h: BuildHarness;
beforeEach(() => {
  if (run) h = new BuildHarness();
});
afterEach(() => h?.cleanup());

/** Resolves once a build in this state dir has the root (it writes its trace after taking the lock). */
async function buildStarted(root: string): Promise<void> {
  const traces = join(root, "traces");
  for (let i = 0; i < 200; i++) {
    if (existsSync(traces) && readdirSync(traces).length > 0) return;
    await Bun.sleep(25);
  }
  throw new Error("the build did not start");
}

describe.skipIf(!run)("prune while a build runs", () => {
  test("prune --all waits for the build, which succeeds and exports the right content", async () => {
    const out = h.temp("out");
    const step = h.base().run(sh("echo before > /a; sleep 2; cat /a > /b; echo after >> /b")).root();
    const def = scratch().file(copy(step, "/b", "/b"));
    const building = h.build(def, ["--output", `type=local,dest=${out}`]);
    await buildStarted(h.root);
    const pruneStarted = Date.now();
    const pruning = cli(["prune", "--root", h.root, "--all"]);
    const [b, p] = await Promise.all([building.then((r) => ({ ...r, exitedAt: Date.now() })), pruning]);

    expect(b.code).toBe(0);
    expect(readFileSync(join(out, "b"), "utf8")).toBe("before\nafter\n");
    expect(p.code).toBe(0);
    expect(p.stderr).toContain(`waiting for a build to release ${h.root}`);
    // It ran after the build: it saw (and removed) the build's results.
    expect(p.exitedAt).toBeGreaterThanOrEqual(b.exitedAt);
    expect(p.exitedAt - pruneStarted).toBeGreaterThan(1000);
    expect(p.stdout).toContain("result-");
    expect(await records(h.root)).toEqual([]);
  });

  test("a build started while a prune holds the root waits, then builds from a consistent cache", async () => {
    const out = h.temp("out");
    const def = h.base().run(sh("echo one > /one")).root();
    expect((await h.build(def)).code).toBe(0);
    // Whichever takes the root first, the other waits; the build's output is right either way.
    const [pruned, rebuilt] = await Promise.all([cli(["prune", "--root", h.root, "--all"]), Bun.sleep(50).then(() => h.build(def, ["--output", `type=local,dest=${out}`]))]);
    expect(pruned.code).toBe(0);
    expect(rebuilt.code).toBe(0);
    expect(readFileSync(join(out, "one"), "utf8")).toBe("one\n");
  });
});
