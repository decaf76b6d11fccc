// The process lease renewed by rotation (leases.ts): what an older lease still holds moves to
// the current one before the older lease goes, the timer keeps a bounded number of leases, each
// with an expiry, and release leaves only the cache lease.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ContainerdClient } from "../../../src/backends/containerd/client.ts";
import { openLeases } from "../../../src/backends/containerd/leases.ts";
import { LeasesService } from "../../../src/backends/containerd/services.ts";
import { createContainerdSnapshotter } from "../../../src/backends/containerd/snapshotter.ts";
import { ContainerdHarness, NAMESPACE, shouldRun } from "./harness.ts";

const run = shouldRun("containerd lease rotation");
const HOUR = 3600e3;

describe.if(run)("containerd process lease rotation", () => {
  const cd = new ContainerdHarness();
  let client: ContainerdClient;
  const leases = async () => (await client.unary("listing leases", LeasesService.methods.List, {})).leases ?? [];
  const resources = async (id: string) => ((await client.unary("listing", LeasesService.methods.ListResources, { id })).resources ?? []).map((r) => r.id);

  beforeAll(async () => {
    await cd.start();
    client = new ContainerdClient(cd.containerd.address, NAMESPACE);
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await cd.stop();
  });

  test("an active snapshot stays held across rotations; the oldest lease goes", async () => {
    const l = await openLeases(client, "rotate-test", { renewMs: HOUR, ttlMs: 2 * HOUR });
    const snapshotter = createContainerdSnapshotter({ client, snapshotter: "overlayfs", owner: "rotate-test", leases: l });
    const first = l.process;
    await snapshotter.prepare("long-step");
    await l.rotate();
    const second = l.process;
    expect(second).not.toBe(first);
    await snapshotter.prepare("later-step");
    await l.rotate();
    await l.rotate();
    const ids = (await leases()).map((x) => x.id);
    expect(ids).not.toContain(first);
    expect(ids).not.toContain(second);
    expect(ids).toHaveLength(3); // cache, current, retired
    // Each snapshot is in one of the two live process leases, whichever rotation moved it to.
    const held = async () => (await Promise.all(ids.filter((id) => !id?.endsWith(".cache")).map((id) => resources(id ?? "")))).flat().sort();
    expect(await held()).toEqual(["later-step", "long-step"]);
    expect(await cd.leftovers()).toEqual([]);
    const current = (await leases()).find((x) => x.id === l.process);
    const expires = Date.parse(current?.labels?.["containerd.io/gc.expire"] ?? "");
    expect(expires).toBeGreaterThan(Date.now() + HOUR);
    expect(expires).toBeLessThanOrEqual(Date.now() + 2 * HOUR);
    await l.release();
    expect((await leases()).map((x) => x.id)).toEqual(["buildkit-ts.rotate-test.cache"]);
    expect(await snapshotter.stat("long-step")).toBeUndefined();
  });

  test("the timer rotates on its own and keeps two process leases", async () => {
    const l = await openLeases(client, "timer-test", { renewMs: 100, ttlMs: HOUR });
    const first = l.process;
    for (const deadline = Date.now() + 5000; l.process === first && Date.now() < deadline; ) await Bun.sleep(50);
    expect(l.process).not.toBe(first);
    await Bun.sleep(300);
    const mine = (await leases()).filter((x) => x.id?.startsWith("buildkit-ts.timer-test."));
    expect(mine.length).toBeLessThanOrEqual(3);
    await l.release();
    await Bun.sleep(250);
    expect((await leases()).filter((x) => x.id?.startsWith("buildkit-ts.timer-test.")).map((x) => x.id)).toEqual(["buildkit-ts.timer-test.cache"]);
  });
});
