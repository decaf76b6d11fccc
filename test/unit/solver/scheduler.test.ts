import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openCacheStore } from "../../../src/core/cache/store.ts";
import { loadDefinition } from "../../../src/core/llb/definition.ts";
import { merge, scratch, type State } from "../../../src/core/llb/index.ts";
import type { SolveOptions } from "../../../src/core/solver/scheduler.ts";
import { busybox, chain, closeStores, digestOf, FakeOps, IMAGE, memoryStore, run } from "./fakes.ts";

afterEach(closeStores);

describe("scheduling", () => {
  test("a chain runs in order, each step on its input's result", async () => {
    const ops = new FakeOps({ "step 1": { delayMs: 20 }, "step 2": { delayMs: 20 } });
    const { res } = await run(chain("step 1", "step 2", "step 3"), ops, memoryStore());
    expect(ops.calls.map((c) => c.name)).toEqual([IMAGE, "step 1", "step 2", "step 3"]);
    for (let i = 1; i < ops.calls.length; i++) {
      const [prev, cur] = [ops.calls[i - 1], ops.calls[i]];
      expect(cur?.start).toBeGreaterThanOrEqual(prev?.end ?? Infinity);
      expect(cur?.inputs).toEqual([expect.stringContaining(`result-${i}-`)]);
    }
    expect(res.result?.id).toStartWith("result-4-step_3");
    expect(res.vertices.map((v) => v.status)).toEqual(["completed", "completed", "completed", "completed"]);
  });

  test("independent vertices run concurrently", async () => {
    const names = Array.from({ length: 8 }, (_, i) => `sleep ${i}`);
    const ops = new FakeOps(Object.fromEntries(names.map((n) => [n, { delayMs: 200 }])));
    // The default limit depends on the CPUs (at least 4): allow all 8 here.
    await run(merge(names.map((n) => busybox.run({ shlex: n }).root())), ops, memoryStore(), { concurrency: 8 });
    const sleeps = ops.calls.filter((c) => c.name.startsWith("sleep"));
    expect(sleeps).toHaveLength(8);
    // Every sleep started before any finished: they overlapped.
    expect(Math.max(...sleeps.map((c) => c.start))).toBeLessThan(Math.min(...sleeps.map((c) => c.end ?? 0)));
    expect(ops.maxRunning).toBe(8);
    const mergeCall = ops.calls.find((c) => c.name.startsWith("merge"));
    expect(mergeCall?.start).toBeGreaterThanOrEqual(Math.max(...sleeps.map((c) => c.end ?? Infinity)));
  });

  test("the concurrency limit is respected", async () => {
    const names = Array.from({ length: 8 }, (_, i) => `sleep ${i}`);
    const ops = new FakeOps(Object.fromEntries(names.map((n) => [n, { delayMs: 30 }])));
    await run(merge(names.map((n) => busybox.run({ shlex: n }).root())), ops, memoryStore(), { concurrency: 3 });
    expect(ops.calls).toHaveLength(10);
    expect(ops.maxRunning).toBe(3);
  });

  test("an empty definition has no result", async () => {
    const { res } = await run(loadDefinition(scratch().marshal()), new FakeOps(), memoryStore());
    expect(res).toEqual({ result: undefined, vertices: [] });
  });
});

describe("caching", () => {
  test("a second solve is fully cached: no op runs, every vertex reports cached", async () => {
    const ops = new FakeOps();
    const store = memoryStore();
    const first = await run(chain("a", "b", "c"), ops, store);
    await first.res.result?.release();
    const second = await run(chain("a", "b", "c"), ops, store);
    expect(ops.calls).toHaveLength(4);
    expect(second.res.vertices.map((v) => v.status)).toEqual(["cached", "cached", "cached", "cached"]);
    expect(second.res.result?.id).toBe(first.res.result?.id as string);
    for (const v of second.res.vertices) {
      expect(second.progress.vertexEvents(v.digest)).toEqual([expect.objectContaining({ cached: true, name: v.name })]);
    }
    // The source's content key is still asked for: it is part of every key.
    expect(ops.contentKeyCalls).toEqual([IMAGE, IMAGE]);
  });

  test("only the result is loaded from a cached graph", async () => {
    const ops = new FakeOps();
    const store = memoryStore();
    const first = await run(chain("a", "b"), ops, store);
    await first.res.result?.release();
    expect(ops.results.holds).toBe(0);
    let loads = 0;
    const counting = async (id: string) => (loads++, ops.results.load(id));
    const second = await run(chain("a", "b"), ops, store, { loadResult: counting });
    expect(loads).toBe(1);
    expect(ops.results.holds).toBe(1);
    await second.res.result?.release();
    expect(ops.results.holds).toBe(0);
  });

  test("a vertex below a cached one is not run even when its own record is gone", async () => {
    const ops = new FakeOps();
    const store = memoryStore();
    const first = await run(chain("a", "b"), ops, store);
    const a = first.res.vertices.find((v) => v.name === "a");
    store.remove(store.lookup(a?.cacheKey as never, 0) as string);
    const second = await run(chain("a", "b"), ops, store);
    expect(ops.calls).toHaveLength(3);
    expect(second.res.vertices.map((v) => [v.name, v.status])).toEqual([[IMAGE, "cached"], ["a", "skipped"], ["b", "cached"]]);
  });

  test("noCache reruns everything", async () => {
    const ops = new FakeOps();
    const store = memoryStore();
    await run(chain("a", "b"), ops, store);
    const second = await run(chain("a", "b"), ops, store, { noCache: true });
    expect(ops.calls.map((c) => c.name)).toEqual([IMAGE, "a", "b", IMAGE, "a", "b"]);
    expect(second.res.vertices.every((v) => v.status === "completed")).toBe(true);
  });

  test("ignore_cache reruns that op only", async () => {
    const ops = new FakeOps();
    const store = memoryStore();
    const graph = (): State => busybox.run({ shlex: "a" }).root().run({ shlex: "b", ignoreCache: true }).root().run({ shlex: "c" }).root();
    await run(graph(), ops, store);
    const second = await run(graph(), ops, store);
    expect(ops.calls.map((c) => c.name)).toEqual([IMAGE, "a", "b", "c", "b"]);
    expect(second.res.vertices.map((v) => v.status)).toEqual(["cached", "cached", "completed", "cached"]);
  });

  test("a result whose data is gone is a miss", async () => {
    const ops = new FakeOps();
    const store = memoryStore();
    await run(chain("a", "b"), ops, store);
    const b = ops.calls.at(-1);
    ops.results.data.clear();
    const second = await run(chain("a", "b"), ops, store);
    expect(ops.calls.map((c) => c.name)).toEqual([IMAGE, "a", "b", IMAGE, "a", "b"]);
    expect(b?.name).toBe("b");
    expect(second.res.vertices.every((v) => v.status === "completed")).toBe(true);
    // Reported cached first, then run: the running event no longer says completed.
    const events = second.progress.vertexEvents(digestOf(second.def, "b"));
    const running = events.find((e) => e.started !== undefined && e.completed === undefined && !e.cached);
    expect(running).toBeDefined();
    expect(events.at(-1)?.completed).toBeGreaterThanOrEqual(running!.started!);
  });

  test("a changed content key reruns the source and its dependents", async () => {
    const ops = new FakeOps({ [IMAGE]: { contentKey: "sha256:one" } });
    const store = memoryStore();
    await run(chain("a"), ops, store);
    ops.behaviors.set(IMAGE, { contentKey: "sha256:two" });
    await run(chain("a"), ops, store);
    expect(ops.calls.map((c) => c.name)).toEqual([IMAGE, "a", IMAGE, "a"]);
  });

  test("input content keys let a dependent hit although its input changed", async () => {
    const ops = new FakeOps();
    const resolve: SolveOptions["resolve"] = (op, def) => ({ ...ops.resolve(op, def), inputKey: async () => "same content" });
    const store = memoryStore();
    await run(busybox.run({ shlex: "x" }).root().run({ shlex: "y" }).root(), ops, store, { resolve });
    await run(busybox.run({ shlex: "x2" }).root().run({ shlex: "y" }).root(), ops, store, { resolve });
    expect(ops.calls.map((c) => c.name)).toEqual([IMAGE, "x", "y", "x2"]);
  });

  test("the cache persists across reopening the store file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "solver-cache-"));
    try {
      const ops = new FakeOps();
      const path = join(dir, "metadata.db");
      let store = openCacheStore(path);
      await run(chain("a", "b"), ops, store);
      store.close();
      store = openCacheStore(path);
      const second = await run(chain("a", "b"), ops, store);
      store.close();
      expect(ops.calls).toHaveLength(3);
      expect(second.res.vertices.every((v) => v.status === "cached")).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
