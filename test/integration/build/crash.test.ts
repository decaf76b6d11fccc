// Crash recovery: a build killed with SIGKILL mid-step leaves mounts under the state root; the
// next process that opens the root (build, du, prune) unmounts them all before removing
// anything, and the cache it keeps is intact. SIGHUP cancels like SIGINT.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copy, local, scratch } from "../../../src/core/llb/index.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { cli } from "../cache/cli.ts";
import { BuildHarness, waitForOutput } from "./harness.ts";

const run = requireIntegration("crash recovery tests", { runc: true, busybox: true });
let h: BuildHarness;
beforeAll(() => {
  if (run) h = new BuildHarness();
});
afterAll(() => h?.cleanup(), 60_000);

const sh = (script: string) => ({ args: ["sh", "-c", script] });
/** What the step prints once running (its name, also printed, has the unexpanded form). */
const READY = "ready-42";
const mountsUnderRoot = () => h.leftoverMounts().filter((m) => m.startsWith(`${h.root}/`));

/** Waits until something is mounted under ROOT/mnt (a file op's or a secret's temporary mount). */
async function waitForTempMount(proc: { exitCode: number | null }): Promise<void> {
  const mnt = join(h.root, "mnt");
  while (!h.leftoverMounts().some((m) => m.startsWith(`${mnt}/`))) {
    if (proc.exitCode !== null) throw new Error("the build ended before mounting anything under ROOT/mnt");
    await Bun.sleep(2);
  }
}

describe.skipIf(!run)("crash recovery", () => {
  test("SIGHUP cancels a build like SIGINT: container killed, nothing mounted", async () => {
    const proc = h.spawn(h.base().run(sh("echo ready-$((6*7)); sleep 60")).root(), ["--no-cache"]);
    await waitForOutput(proc, READY);
    const t0 = Date.now();
    proc.kill("SIGHUP");
    expect(await proc.exited).toBe(1);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(h.leftoverContainers()).toEqual([]);
    expect(mountsUnderRoot()).toEqual([]);
  });

  test("kill -9 during an exec with a secret: prune --all unmounts first, the cache stays intact", async () => {
    const out = h.temp("kept");
    const kept = h.base().run(sh("echo kept > /kept")).root();
    expect((await h.build(kept)).code).toBe(0);
    const secret = join(h.temp("secret"), "s");
    writeFileSync(secret, "x");
    const withSecret = h.base().run({ ...sh("cat /run/secrets/s >/dev/null; echo ready-$((6*7)); sleep 60"), secrets: [{ id: "s", dest: "/run/secrets/s" }] }).root();
    const proc = h.spawn(withSecret, ["--no-cache", "--secret", `id=s,src=${secret}`]);
    await waitForOutput(proc, READY);
    proc.kill("SIGKILL");
    await proc.exited;
    expect(mountsUnderRoot().length).toBeGreaterThan(0); // the secret's tmpfs, the container's rootfs
    const again = await h.build(kept, ["--output", `type=local,dest=${out}`]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("CACHED");
    expect(readFileSync(join(out, "kept"), "utf8")).toBe("kept\n");
    expect(mountsUnderRoot()).toEqual([]);
    expect(h.leftoverContainers()).toEqual([]);
    const prune = await cli(["prune", "--root", h.root, "--all"]);
    expect(prune.stderr).toBe("");
    expect(prune.code).toBe(0);
  });

  test("kill -9 during a long file op: the next prune sweeps its mounts before deleting snapshots", async () => {
    const ctx = h.temp("many");
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(ctx, `d${d}`));
      for (let f = 0; f < 300; f++) writeFileSync(join(ctx, `d${d}`, `f${f}`), `${d}/${f}\n`);
    }
    // Onto the busybox base, so the destination is an overlay mount under ROOT/mnt (a copy into
    // an empty snapshot reaches its directory without a mount).
    const def = h.base().file(copy(local("many"), "/", "/copied"));
    const proc = h.spawn(def, ["--no-cache"], { locals: { many: ctx } });
    await waitForTempMount(proc);
    proc.kill("SIGKILL");
    await proc.exited;
    expect(mountsUnderRoot().length).toBeGreaterThan(0);
    const prune = await cli(["prune", "--root", h.root, "--all"]);
    expect(prune.code).toBe(0);
    expect(mountsUnderRoot()).toEqual([]);
    // The source data the killed build was reading is untouched, and the build now completes.
    expect(readFileSync(join(ctx, "d19", "f299"), "utf8")).toBe("19/299\n");
    const out = h.temp("copied");
    const next = await h.build(def, ["--output", `type=local,dest=${out}`], { locals: { many: ctx } });
    expect(next.code).toBe(0);
    expect(readFileSync(join(out, "copied", "d7", "f123"), "utf8")).toBe("7/123\n");
    expect(mountsUnderRoot()).toEqual([]);
  }, 120_000);
});
