import { afterEach, describe, expect, test } from "bun:test";
import { merge } from "../../../src/core/llb/index.ts";
import type { ProgressEvent } from "../../../src/core/progress/events.ts";
import { Inflight } from "../../../src/core/solver/inflight.ts";
import { busybox, chain, closeStores, digestOf, FakeOps, IMAGE, memoryStore, run } from "./fakes.ts";

afterEach(closeStores);

describe("progress", () => {
  test("a vertex starts, logs, reports status and completes, in that order", async () => {
    const ops = new FakeOps({ build: { logs: ["hello\n"], delayMs: 5 } });
    const { def, progress } = await run(chain("build"), ops, memoryStore());
    const build = digestOf(def, "build");
    const image = digestOf(def, IMAGE);
    // Every vertex is first announced, pending, in graph order.
    expect(progress.announced()).toEqual([image, build]);
    const pending = (e: ProgressEvent) => e.type === "vertex" && e.started === undefined && e.completed === undefined;
    const events = progress.events.filter((e) => !pending(e));
    const mine = events.filter((e) => (e.type === "vertex" ? e.digest : e.vertex) === build);
    const shape = (e: ProgressEvent): string => (e.type === "vertex" ? (e.completed ? "completed" : "started") : e.type);
    expect(mine.map(shape)).toEqual(["started", "log", "status", "status", "completed"]);
    expect(mine[0]).toMatchObject({ type: "vertex", name: "build", inputs: [image] });
    expect(mine[0]).not.toHaveProperty("completed");
    expect(mine[2]).not.toHaveProperty("completed");
    expect(mine[1]).toMatchObject({ stream: 1, data: new TextEncoder().encode("hello\n") });
    expect(mine[3]).toMatchObject({ id: "work", current: 1, total: 1, completed: expect.any(Number) });
    const done = mine[4] as Extract<ProgressEvent, { type: "vertex" }>;
    expect(done.completed).toBeGreaterThanOrEqual(done.started ?? Infinity);
    // The image is reported done before the step that uses it starts.
    const order = events.filter((e) => e.type === "vertex").map((e) => `${e.digest === image ? "image" : "build"} ${shape(e)}`);
    expect(order).toEqual(["image started", "image completed", "build started", "build completed"]);
  });
});

describe("refs", () => {
  test("intermediate results are released, the final one is the caller's", async () => {
    const ops = new FakeOps();
    const { res } = await run(merge([chain("a", "b"), chain("c")]), ops, memoryStore());
    expect(ops.results.holds).toBe(1);
    await res.result?.release();
    expect(ops.results.holds).toBe(0);
  });

  test("an input is released as soon as its last consumer is done", async () => {
    const ops = new FakeOps({ slow: { delayMs: 50 } });
    let holdsWhenSlowRan = -1;
    const resolve: typeof ops.resolve = (op, def) => {
      const adapter = ops.resolve(op, def);
      return {
        ...adapter,
        exec: async (inputs, ctx) => {
          if (ops.calls.some((c) => c.name === "a")) holdsWhenSlowRan = ops.results.holds;
          return adapter.exec(inputs, ctx);
        },
      };
    };
    // image -> a -> b, then slow on b: by the time slow runs, image and a are released.
    await run(chain("a", "b", "slow"), ops, memoryStore(), { resolve });
    expect(holdsWhenSlowRan).toBe(1); // b's result only
  });
});

describe("dedupe", () => {
  test("identical vertices in two concurrent solves run once", async () => {
    const ops = new FakeOps({ shared: { delayMs: 100 } });
    const store = memoryStore();
    const one = busybox.run({ shlex: "shared", name: "shared" }).root().run({ shlex: "one" }).root();
    const two = busybox.run({ shlex: "shared", name: "shared" }).root().run({ shlex: "two" }).root();
    const [a, b] = await Promise.all([run(one, ops, store), run(two, ops, store)]);
    expect(ops.execCount("shared")).toBe(1);
    expect(ops.execCount(IMAGE)).toBe(1);
    expect(ops.execCount("one")).toBe(1);
    expect(ops.execCount("two")).toBe(1);
    // Both report the shared step as run (not cached), with its start.
    for (const r of [a, b]) {
      expect(r.res.vertices.find((v) => v.name === "shared")).toMatchObject({ status: "completed", started: expect.any(Number) });
    }
    await a.res.result?.release();
    await b.res.result?.release();
    expect(ops.results.holds).toBe(0);
  });

  test("work joined by two solves goes on when one of them is canceled", async () => {
    const ops = new FakeOps({ shared: { delayMs: 80 } });
    const store = memoryStore();
    const inflight = new Inflight();
    const controller = new AbortController();
    const st = busybox.run({ shlex: "shared" }).root();
    const canceled = run(st, ops, store, { inflight, signal: controller.signal }).then(
      () => "done",
      () => "canceled",
    );
    const kept = run(st, ops, store, { inflight });
    setTimeout(() => controller.abort(), 30);
    expect(await canceled).toBe("canceled");
    const { res } = await kept;
    expect(ops.execCount("shared")).toBe(1);
    expect(ops.call("shared").aborted).toBeUndefined();
    expect(res.result?.id).toStartWith("result-2-shared");
    await res.result?.release();
    expect(ops.results.holds).toBe(0);
    expect(inflight.size).toBe(0);
  });
});
