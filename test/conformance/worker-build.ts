// The shared whole-worker build suite: `buildkit build` as a user runs it, with the worker
// chosen by flags, so every backend answers the same scenarios: an exec chain, mount kinds,
// cache hits across processes, an image export, cancellation.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { scratch } from "../../src/core/llb/index.ts";
import type { BuildHarness } from "../integration/build/harness.ts";
import { waitForOutput } from "../integration/build/harness.ts";

export interface WorkerBuildFixture {
  readonly harness: BuildHarness;
  /** The flags that pick the worker (--worker …). */
  readonly workerArgs: readonly string[];
  /** Called after each test: what the backend still holds that it should not. */
  leftovers(): Promise<string[]>;
  /** Image names the backend's own image store has (empty when it has none). */
  imageNames(): Promise<string[]>;
}

export function describeWorkerBuild(name: string, fixture: () => WorkerBuildFixture): void {
  describe(`worker build suite: ${name}`, () => {
    test("a 10-step chain runs, then is entirely cached in a new process", async () => {
      const f = fixture();
      let s = f.harness.base();
      for (let i = 0; i < 10; i++) s = s.run({ shlex: `sh -c 'echo step${i} >> /log; echo out${i}'` }).root();
      const out = f.harness.temp("out");
      const first = await f.harness.build(s, [...f.workerArgs, "--output", `type=local,dest=${out}`]);
      expect(first.stderr).toContain("out9");
      expect(first.code).toBe(0);
      expect(readFileSync(join(out, "log"), "utf8")).toBe(Array.from({ length: 10 }, (_, i) => `step${i}\n`).join(""));
      const second = await f.harness.build(s, [...f.workerArgs]);
      expect(second.code).toBe(0);
      expect((second.stderr.match(/CACHED/g) ?? []).length).toBe(11);
      expect(await f.leftovers()).toEqual([]);
    }, 120_000);

    test("mounts: a scratch output mount, a read-only input, tmpfs and a cache mount", async () => {
      const f = fixture();
      const base = f.harness.base();
      const input = base.run({ shlex: "sh -c 'echo from-input > /input.txt'" }).root();
      const st = base.run({
        shlex: "sh -c 'cat /in/input.txt > /out/copied; echo t > /tmp/t && echo tmpfs-ok >> /out/copied; echo c >> /cache/count; wc -l < /cache/count > /out/cache-lines'",
        mounts: [
          { dest: "/out", source: scratch() },
          { dest: "/in", source: input, readonly: true },
          { dest: "/tmp", source: scratch(), tmpfs: true },
          { dest: "/cache", source: scratch(), cache: { id: "conformance-cache" } },
        ],
      });
      const out = f.harness.temp("mounts");
      const outMount = st.getMount("/out");
      if (outMount === undefined) throw new Error("no /out mount");
      const r = await f.harness.build(outMount, [...f.workerArgs, "--output", `type=local,dest=${out}`]);
      expect(r.stderr).not.toContain("error");
      expect(r.code).toBe(0);
      expect(readFileSync(join(out, "copied"), "utf8")).toBe("from-input\ntmpfs-ok\n");
      expect(readFileSync(join(out, "cache-lines"), "utf8").trim()).toBe("1");
      expect(await f.leftovers()).toEqual([]);
    }, 120_000);

    test("an image export is named in the backend's image store and written as an OCI tarball", async () => {
      const f = fixture();
      const st = f.harness.base().run({ shlex: "sh -c 'echo image > /marker'" }).root();
      const tar = join(f.harness.temp("oci"), "image.tar");
      const r = await f.harness.build(st, [...f.workerArgs, "--output", "type=image,name=example.test/conformance:v1", "--output", `type=oci,dest=${tar},name=example.test/conformance:oci`]);
      expect(r.code).toBe(0);
      expect(readFileSync(tar).byteLength).toBeGreaterThan(1024);
      const names = await f.imageNames();
      if (names.length > 0) expect(names).toContain("example.test/conformance:v1");
      expect(await f.leftovers()).toEqual([]);
    }, 120_000);

    test("SIGINT cancels a running step; nothing is left running", async () => {
      const f = fixture();
      const st = f.harness.base().run({ shlex: "sh -c 'echo started; sleep 120'" }).root();
      const proc = f.harness.spawn(st, [...f.workerArgs]);
      await waitForOutput(proc, "started");
      proc.kill("SIGINT");
      expect(await proc.exited).toBe(1);
      expect(await f.leftovers()).toEqual([]);
    }, 120_000);
  });
}
