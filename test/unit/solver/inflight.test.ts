import { describe, expect, test } from "bun:test";
import { Inflight, share, type JoinSink, type WorkContext } from "../../../src/core/solver/inflight.ts";
import type { ResultRef } from "../../../src/core/solver/op.ts";
import { eachLimited, Semaphore } from "../../../src/core/semaphore.ts";

function counted(id: string): { ref: ResultRef; released: () => number } {
  let n = 0;
  return { ref: { id, release: async () => void n++ }, released: () => n };
}

function sink(): JoinSink & { starts: number; logs: string[] } {
  const s = {
    starts: 0,
    logs: [] as string[],
    started: () => void s.starts++,
    log: (_: 1 | 2, data: Uint8Array) => void s.logs.push(new TextDecoder().decode(data)),
    status: () => undefined,
  };
  return s;
}

describe("handles", () => {
  test("the result is released when the last hold is", async () => {
    const { ref, released } = counted("r");
    const first = share(ref);
    const second = first.retain();
    await first.release();
    await first.release(); // once per handle
    expect(released()).toBe(0);
    await second.release();
    expect(released()).toBe(1);
    expect(() => second.retain()).toThrow(/already released/);
  });
});

describe("inflight", () => {
  test("joiners share one run, its start and its logs", async () => {
    const inflight = new Inflight();
    const { ref, released } = counted("r");
    let runs = 0;
    let finish = (): void => undefined;
    const work = async (ctx: WorkContext): Promise<ResultRef[]> => {
      runs++;
      ctx.begin();
      await new Promise<void>((resolve) => (finish = resolve));
      ctx.progress.log(1, new TextEncoder().encode("hi"));
      return [ref];
    };
    const [a, b] = [sink(), sink()];
    const signal = new AbortController().signal;
    const joins = [inflight.join("k", work, a, signal), inflight.join("k", work, b, signal)];
    await Bun.sleep(1);
    finish();
    const [ha, hb] = await Promise.all(joins);
    expect(runs).toBe(1);
    expect([a.starts, b.starts]).toEqual([1, 1]);
    expect([a.logs, b.logs]).toEqual([["hi"], ["hi"]]);
    expect(inflight.size).toBe(0);
    await ha?.[0]?.release();
    expect(released()).toBe(0);
    await hb?.[0]?.release();
    expect(released()).toBe(1);
  });

  test("the work is aborted when every joiner has gone, and its result released", async () => {
    const inflight = new Inflight();
    const { ref, released } = counted("r");
    let aborted = false;
    const work = async (ctx: { signal: AbortSignal }): Promise<ResultRef[]> => {
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
      aborted = true;
      return [ref]; // an op that finishes anyway
    };
    const controller = new AbortController();
    const joined = inflight.join("k", work, sink(), controller.signal);
    controller.abort();
    await expect(joined).rejects.toMatchObject({ code: "Canceled" });
    await Bun.sleep(1);
    expect(aborted).toBe(true);
    expect(released()).toBe(1);
    expect(inflight.size).toBe(0);
  });
});

describe("semaphore", () => {
  test("limits holders and hands slots over in order", async () => {
    const sem = new Semaphore(2);
    const signal = new AbortController().signal;
    const order: number[] = [];
    const r1 = await sem.acquire(signal);
    const r2 = await sem.acquire(signal);
    const third = sem.acquire(signal).then((r) => (order.push(3), r));
    const fourth = sem.acquire(signal).then((r) => (order.push(4), r));
    await Bun.sleep(1);
    expect(order).toEqual([]);
    r1();
    r1(); // once
    await third;
    expect(order).toEqual([3]);
    r2();
    (await fourth)();
    expect(order).toEqual([3, 4]);
  });

  test("a waiter can give up", async () => {
    const sem = new Semaphore(1);
    const release = await sem.acquire(new AbortController().signal);
    const controller = new AbortController();
    const waiting = sem.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: "Canceled" });
    release();
    const again = await sem.acquire(new AbortController().signal);
    again();
  });
});

describe("eachLimited", () => {
  test("at most limit at once, started in order, all done", async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    await eachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      started.push(n);
      most = Math.max(most, ++running);
      await Bun.sleep(2);
      running--;
    });
    expect(most).toBe(3);
    expect(started).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  test("the first failure is the error and stops further starts", async () => {
    const started: number[] = [];
    const run = eachLimited([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await Bun.sleep(1);
      if (n === 1) throw new Error("one failed");
    });
    await expect(run).rejects.toThrow("one failed");
    await Bun.sleep(10);
    expect(started).toEqual([1, 2]);
  });
});
