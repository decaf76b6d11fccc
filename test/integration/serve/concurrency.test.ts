// Many clients on one daemon: shared work runs once, a client that goes away cancels only its
// own build, progress is reachable by ref from another connection, SIGTERM stops cleanly.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../../../src/api/grpc/client.ts";
import { ControlService } from "../../../src/api/grpc/services.ts";
import { LINUX_AMD64, local, scratch, type State } from "../../../src/core/llb/index.ts";
import { liveContainers } from "../../fixtures/containers.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BUILDCTL, buildctlAvailable, ServeHarness } from "./daemon.ts";

const run = requireIntegration("buildkit serve with many clients", { runc: true, busybox: true }) && buildctlAvailable("buildkit serve with many clients");

const def = (s: State) => s.marshal({ platform: LINUX_AMD64 });

function step(sh: string, cache?: string): State {
  const mounts = [{ dest: "/out", source: scratch() }, ...(cache ? [{ dest: "/count", source: scratch(), cache: { id: cache, sharing: "shared" as const } }] : [])];
  return local("rootfs").run({ args: ["sh", "-c", sh], mounts }).getMount("/out")!;
}

function containersOf(h: ServeHarness): string[] {
  return existsSync(join(h.root, "executor")) ? liveContainers(join(h.root, "executor")) : [];
}

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

describe.if(run)("buildkit serve with several clients", () => {
  const h = new ServeHarness();
  beforeAll(() => h.start());
  afterAll(() => h.cleanup());
  const locals = () => ["--local", `rootfs=${h.rootfs}`];

  test("two clients building the same graph at once run the shared step once", async () => {
    const marker = `shared-${Date.now()}`;
    const bytes = def(step(`echo ${marker}; echo ran >> /count/runs; sleep 2; echo done > /out/x`, marker));
    const [a, b] = await Promise.all([0, 1].map((i) => h.buildctl(["build", "--progress", "plain", ...locals(), "--output", `type=local,dest=${h.temp(`out${i}`)}`], { stdin: bytes })));
    expect(a?.code).toBe(0);
    expect(b?.code).toBe(0);
    // The cache mount counts the runs: one line, whoever asked first.
    const count = h.temp("count");
    const r = await h.buildctl(["build", ...locals(), "--no-cache", "--output", `type=local,dest=${count}`], { stdin: def(step("cat /count/runs > /out/runs", marker)) });
    expect(r.code).toBe(0);
    expect(readFileSync(join(count, "runs"), "utf8")).toBe("ran\n");
  });

  test("a client that disconnects cancels its own build only", async () => {
    const slow = h.temp("slow");
    const refFile = join(slow, "ref");
    const victim = Bun.spawn([BUILDCTL, "--addr", h.addr, "build", "--ref-file", refFile, ...locals()], {
      stdin: new Blob([def(step(`echo victim-${Date.now()}; sleep 60`))]),
      stdout: "ignore",
      stderr: "pipe",
    });
    await until("the slow step's container", () => containersOf(h).length > 0);
    const other = h.buildctl(["build", ...locals(), "--output", `type=local,dest=${h.temp("other")}`], { stdin: def(step(`sleep 1; echo ok-${Date.now()} > /out/ok`)) });
    victim.kill("SIGKILL");
    const r = await other;
    expect(r.code).toBe(0);
    await until("the canceled container to go", () => containersOf(h).length === 0);
  });

  test("Status by ref from a second connection sees the build's vertices", async () => {
    const dir = h.temp("status");
    const refFile = join(dir, "ref");
    const marker = `status-${Date.now()}`;
    const build = h.buildctl(["build", "--ref-file", refFile, ...locals()], { stdin: def(step(`echo ${marker}; sleep 2`)) });
    await until("the ref file", () => existsSync(refFile) && readFileSync(refFile, "utf8").length > 0);
    const channel = connect(h.addr);
    try {
      const names: string[] = [];
      let logs = "";
      for await (const res of channel.serverStream(ControlService.methods.Status, { Ref: readFileSync(refFile, "utf8").trim() })) {
        for (const v of res.vertexes ?? []) names.push(v.name ?? "");
        for (const l of res.logs ?? []) logs += new TextDecoder().decode(l.msg ?? new Uint8Array());
      }
      expect(names.some((n) => n.includes(marker))).toBe(true);
      expect(logs).toContain(marker);
    } finally {
      await channel.close();
    }
    expect((await build).code).toBe(0);
  });

  test("a malformed or oversized request gets a gRPC error and the daemon keeps serving", async () => {
    const channel = connect(h.addr);
    try {
      const bad = channel.unary(ControlService.methods.Solve, { Ref: `bad-${Date.now()}`, Definition: new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2]) });
      await expect(bad).rejects.toThrow(/invalid definition/);
      const huge = channel.unary(ControlService.methods.Solve, { Ref: `huge-${Date.now()}`, Definition: new Uint8Array(17 << 20) });
      await expect(huge).rejects.toThrow(/larger than|too large|exceeds|RESOURCE_EXHAUSTED/i);
      const workers = await channel.unary(ControlService.methods.ListWorkers, {});
      expect(workers.record?.length).toBe(1);
    } finally {
      await channel.close();
    }
  });

  test("SIGTERM cancels running builds, kills their containers, releases mounts and exits 0", async () => {
    const build = h.buildctl(["build", ...locals()], { stdin: def(step(`echo term-${Date.now()}; sleep 60`)) });
    await until("the step's container", () => containersOf(h).length > 0);
    const code = await h.stop();
    expect(code).toBe(0);
    expect((await build).code).not.toBe(0);
    expect(containersOf(h)).toEqual([]);
    expect(h.leftoverMounts()).toEqual([]);
    expect(h.stderrText).toContain("SIGTERM");
  });
});
