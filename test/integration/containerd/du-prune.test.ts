// `buildkit du` and `buildkit prune` with `--worker containerd`: they open the same state a
// containerd build made (its records, containerd's snapshots), and prune removes the snapshots
// from containerd itself.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { UsageRecord } from "../../../src/core/cache/usage.ts";
import { BuildHarness } from "../build/harness.ts";
import { cli, sh } from "../cache/cli.ts";
import { ContainerdHarness, NAMESPACE, shouldRun } from "./harness.ts";

const run = shouldRun("du and prune --worker containerd");

describe.if(run)("du and prune --worker containerd", () => {
  const cd = new ContainerdHarness();
  let h: BuildHarness;
  let flags: string[] = [];
  const snapshots = () => cd.containerd.ctr(["snapshots", "ls"]).trim().split("\n").slice(1).filter(Boolean);

  beforeAll(async () => {
    await cd.start();
    h = new BuildHarness();
    flags = ["--root", h.root, "--worker", "containerd", "--containerd-address", cd.containerd.address, "--containerd-namespace", NAMESPACE];
  }, 60_000);
  afterAll(async () => {
    await h?.cleanup();
    await cd.stop();
  });

  test("du lists what a containerd build made; the standalone worker's state is another", async () => {
    const st = h.base().run(sh("head -c 300000 /dev/urandom > /big")).root();
    const b = await h.build(st, flags.slice(2));
    expect(b.code).toBe(0);
    const du = await cli(["du", ...flags, "--format", "json"]);
    expect(du.stderr).toBe("");
    expect(du.code).toBe(0);
    const rs = JSON.parse(du.stdout) as UsageRecord[];
    expect(rs.find((r) => r.type === "source.local")?.size).toBeGreaterThan(1_900_000);
    const exec = rs.find((r) => r.description.includes("/big"));
    expect(exec?.size).toBeGreaterThanOrEqual(300_000);
    expect(exec?.size).toBeLessThan(400_000);
    const standalone = await cli(["du", "--root", h.root, "--format", "json"]);
    expect(standalone.code).toBe(0);
    // The root's traces belong to no worker; the standalone worker has no cache records of its own.
    expect((JSON.parse(standalone.stdout) as UsageRecord[]).filter((r) => r.type !== "trace")).toEqual([]);
    expect(await cd.leftovers()).toEqual([]);
  }, 120_000);

  test("prune --all removes the records and containerd's snapshots", async () => {
    expect(snapshots().length).toBeGreaterThanOrEqual(2);
    const prune = await cli(["prune", "--all", ...flags]);
    expect(prune.stderr).toBe("");
    expect(prune.code).toBe(0);
    expect(prune.stdout).toMatch(/^Total:\s+2\.\d\dMB$/m);
    const du = await cli(["du", ...flags, "--format", "json"]);
    expect(JSON.parse(du.stdout)).toEqual([]);
    expect(snapshots()).toEqual([]);
    expect(await cd.leftovers()).toEqual([]);
  }, 120_000);

  test("a bad --worker or namespace is a usage error", async () => {
    const bad = await cli(["du", "--root", h.root, "--worker", "nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--worker must be one of standalone, containerd");
    const ns = await cli(["prune", "--root", h.root, "--worker", "containerd", "--containerd-namespace", "a/b"]);
    expect(ns.code).toBe(2);
  });

  test("an unreachable containerd is one line, exit 1", async () => {
    const r = await cli(["du", "--root", h.root, "--worker", "containerd", "--containerd-address", `${h.dir}/none.sock`]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("connecting to containerd: no socket at");
  });
});
