import { afterEach, describe, expect, test } from "bun:test";
import { merge } from "../../../src/core/llb/index.ts";
import { VertexError } from "../../../src/core/solver/job.ts";
import { solve } from "../../../src/core/solver/scheduler.ts";
import { busybox, closeStores, digestOf, failure, FakeOps, load, memoryStore, RecordingProgress, run } from "./fakes.ts";

afterEach(closeStores);

/** A failing step with a dependent, beside a sibling that would never finish on its own. */
function failingGraph() {
  const failing = busybox.run({ shlex: "fails" }).root().run({ shlex: "after failure" }).root();
  const sibling = busybox.run({ shlex: "sibling" }).root();
  return load(merge([failing, sibling]));
}

describe("failure", () => {
  test("stops dependents, cancels siblings and names the vertex", async () => {
    const ops = new FakeOps({ fails: { delayMs: 30, fail: "exit code 1" }, sibling: { hang: true } });
    const def = failingGraph();
    const progress = new RecordingProgress();
    const started = performance.now();
    const err = await failure(solve(def, { resolve: ops.resolve, store: memoryStore(), progress, loadResult: ops.results.load }));
    expect(performance.now() - started).toBeLessThan(2000); // the sibling hangs forever unless canceled

    expect(err).toBeInstanceOf(VertexError);
    expect(err.message).toBe("fails: exit code 1");
    expect(err.code).toBe("Internal");
    expect((err as VertexError).vertex).toBe(digestOf(def, "fails"));

    expect(ops.execCount("after failure")).toBe(0);
    expect(ops.call("sibling").aborted).toBe(true);
    expect(progress.vertexEvents(digestOf(def, "fails")).at(-1)).toMatchObject({ error: "fails: exit code 1" });
    expect(progress.vertexEvents(digestOf(def, "sibling")).at(-1)).toMatchObject({ canceled: true, error: "canceled" });
    expect(progress.vertexEvents(digestOf(def, "after failure"))).toEqual([]);
    expect(ops.results.holds).toBe(0);
  });

  test("keeps the code of a BuildkitError cause", async () => {
    const ops = new FakeOps();
    const resolve: typeof ops.resolve = (op, def) => ({
      ...ops.resolve(op, def),
      exec: async () => {
        throw new (await import("../../../src/core/errors.ts")).BuildkitError("NotFound", "pulling image: not found");
      },
    });
    const err = await failure(run(busybox.run({ shlex: "x" }).root(), ops, memoryStore(), { resolve }));
    expect(err.code).toBe("NotFound");
    expect(err.message).toBe(`docker-image://docker.io/library/busybox:latest: pulling image: not found`);
  });

  test("a content key failure names its vertex", async () => {
    const ops = new FakeOps();
    const resolve: typeof ops.resolve = (op, def) => ({
      ...ops.resolve(op, def),
      contentKey: async () => {
        throw new Error("resolving image: 401 unauthorized");
      },
    });
    const err = await failure(run(busybox.run({ shlex: "x" }).root(), ops, memoryStore(), { resolve }));
    expect(err.message).toBe("docker-image://docker.io/library/busybox:latest: resolving image: 401 unauthorized");
    expect(ops.calls).toEqual([]);
  });

  test("an op the resolver cannot run names its vertex", async () => {
    const ops = new FakeOps();
    const resolve: typeof ops.resolve = (op, def) => {
      if (op.op.op === "exec") throw new (class extends Error {})("exec is not supported");
      return ops.resolve(op, def);
    };
    const err = await failure(run(busybox.run({ shlex: "x y" }).root(), ops, memoryStore(), { resolve }));
    expect(err.message).toBe("x y: exec is not supported");
  });

  test("an external abort cancels the solve", async () => {
    const ops = new FakeOps({ forever: { hang: true } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const progress = new RecordingProgress();
    const def = load(busybox.run({ shlex: "forever" }).root());
    const err = await failure(solve(def, { resolve: ops.resolve, store: memoryStore(), progress, loadResult: ops.results.load, signal: controller.signal }));
    expect(err.code).toBe("Canceled");
    expect(err.message).toBe("solving definition: canceled");
    expect(ops.call("forever").aborted).toBe(true);
    expect(progress.vertexEvents(digestOf(def, "forever")).at(-1)).toMatchObject({ canceled: true });
    expect(ops.results.holds).toBe(0);
  });

  test("an op returning the wrong number of results fails", async () => {
    const ops = new FakeOps();
    const resolve: typeof ops.resolve = (op, def) => ({ ...ops.resolve(op, def), exec: async () => [] });
    const err = await failure(run(busybox, ops, memoryStore(), { resolve }));
    expect(err.message).toBe("docker-image://docker.io/library/busybox:latest: running op: 0 results for 1 outputs");
  });

  test("a failed vertex is not recorded, so the next solve runs it again", async () => {
    const ops = new FakeOps({ flaky: { fail: "once" } });
    const store = memoryStore();
    await failure(run(busybox.run({ shlex: "flaky" }).root(), ops, store));
    ops.behaviors.delete("flaky");
    await run(busybox.run({ shlex: "flaky" }).root(), ops, store);
    expect(ops.execCount("flaky")).toBe(2);
  });
});
