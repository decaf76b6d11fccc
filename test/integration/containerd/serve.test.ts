// `buildkit serve --worker containerd`: a 10-step chain built through the daemon by BuildKit's
// buildctl v0.11.6 and by our client (`buildkit build --addr`), sharing one cache; after each
// test containerd holds no containers, tasks or unleased snapshots, and a stopped daemon leaves
// only its cache lease.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ContainerdClient } from "../../../src/backends/containerd/client.ts";
import { LeasesService } from "../../../src/backends/containerd/services.ts";
import { LINUX_AMD64, local, type State } from "../../../src/core/llb/index.ts";
import { runClient } from "../client/daemons.ts";
import { buildctlAvailable, ServeHarness } from "../serve/daemon.ts";
import { ContainerdHarness, NAMESPACE, shouldRun } from "./harness.ts";

const run = shouldRun("buildkit serve --worker containerd") && buildctlAvailable("buildkit serve --worker containerd");

/** Ten steps, each appending its line to /log; `tag` makes a chain of its own. */
function chain(tag: string): State {
  let s = local("rootfs");
  for (let i = 0; i < 10; i++) s = s.run({ shlex: `sh -c 'echo ${tag}${i} >> /log; echo out-${tag}${i}'` }).root();
  return s;
}
const expectedLog = (tag: string) => Array.from({ length: 10 }, (_, i) => `${tag}${i}\n`).join("");
/** A step's output line in plain progress ("#3 0.081 out-b2"): the step ran. */
const RAN = /^#\d+ \d+\.\d+ out-/m;
const def = (s: State) => s.marshal({ platform: LINUX_AMD64 });

async function leaseIds(address: string): Promise<string[]> {
  const client = new ContainerdClient(address, NAMESPACE);
  try {
    const res = await client.unary("listing leases", LeasesService.methods.List, {});
    return (res.leases ?? []).map((l) => l.id ?? "");
  } finally {
    await client.close();
  }
}

describe.if(run)("buildkit serve --worker containerd", () => {
  const cd = new ContainerdHarness();
  let h: ServeHarness;

  beforeAll(async () => {
    await cd.start();
    h = new ServeHarness();
    await h.start(["--worker", "containerd", "--containerd-address", cd.containerd.address, "--containerd-namespace", NAMESPACE]);
  }, 60_000);
  afterEach(async () => expect(await cd.leftovers()).toEqual([]));
  afterAll(async () => {
    await h?.cleanup();
    await cd.stop();
  });

  test("buildctl debug workers lists the containerd worker", async () => {
    const r = await h.buildctl(["debug", "workers"]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(new RegExp(`^containerd-${NAMESPACE}-\\S+\\s+linux/\\w+`, "m"));
  });

  test("buildctl: a 10-step chain, then the same chain entirely cached", async () => {
    const out = h.temp("out");
    const first = await h.buildctl(["build", "--progress", "plain", "--local", `rootfs=${h.rootfs}`, "--output", `type=local,dest=${out}`], { stdin: def(chain("b")) });
    expect(first.stderr).toMatch(RAN);
    expect(first.stderr).toContain("out-b9");
    expect(first.code).toBe(0);
    expect(readFileSync(join(out, "log"), "utf8")).toBe(expectedLog("b"));
    const second = await h.buildctl(["build", "--progress", "plain", "--local", `rootfs=${h.rootfs}`], { stdin: def(chain("b")) });
    expect(second.code).toBe(0);
    expect(second.stderr).not.toMatch(RAN);
    expect((second.stderr.match(/CACHED/g) ?? []).length).toBe(11);
  }, 120_000);

  test("our client: a new chain, then buildctl's chain from the daemon's cache", async () => {
    const out = h.temp("ours");
    const first = await runClient(["build", "--addr", h.addr, "--progress", "plain", "--local", `rootfs=${h.rootfs}`, "--output", `type=local,dest=${out}`], { stdin: def(chain("c")) });
    expect(first.stderr).toMatch(RAN);
    expect(first.stderr).toContain("out-c9");
    expect(first.code).toBe(0);
    expect(readFileSync(join(out, "log"), "utf8")).toBe(expectedLog("c"));
    const cached = await runClient(["build", "--addr", h.addr, "--progress", "plain", "--local", `rootfs=${h.rootfs}`, "--output", `type=local,dest=${h.temp("cached")}`], { stdin: def(chain("b")) });
    expect(cached.code).toBe(0);
    expect(cached.stderr).not.toMatch(RAN);
    expect((cached.stderr.match(/CACHED/g) ?? []).length).toBe(11);
  }, 120_000);

  test("a stopped daemon leaves its cache lease and nothing running", async () => {
    expect((await leaseIds(cd.containerd.address)).length).toBe(2);
    expect(await h.stop()).toBe(0);
    const left = await leaseIds(cd.containerd.address);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/\.cache$/);
    expect(h.leftoverMounts()).toEqual([]);
  }, 60_000);
});
