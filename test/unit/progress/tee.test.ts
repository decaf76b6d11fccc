import { describe, expect, test } from "bun:test";
import { sha256 } from "../../../src/core/digest.ts";
import type { ProgressEvent, ProgressWriter } from "../../../src/core/progress/events.ts";
import { tee } from "../../../src/core/progress/tee.ts";

const ev = (n: number): ProgressEvent => ({ type: "vertex", digest: sha256(String(n)), name: `v${n}`, inputs: [] });

function recorder(): ProgressWriter & { seen: ProgressEvent[]; closedWith: (Error | undefined)[] } {
  const seen: ProgressEvent[] = [];
  const closedWith: (Error | undefined)[] = [];
  return {
    seen,
    closedWith,
    write: (e) => void seen.push(e),
    close: async (err) => void closedWith.push(err),
  };
}

describe("tee", () => {
  test("fans every event out to every writer and closes them all with the error", async () => {
    const a = recorder();
    const b = recorder();
    const t = tee(a, b);
    t.write(ev(1));
    t.write(ev(2));
    const err = new Error("build failed");
    await t.close(err);
    expect(a.seen).toEqual([ev(1), ev(2)]);
    expect(b.seen).toEqual([ev(1), ev(2)]);
    expect(a.closedWith).toEqual([err]);
    expect(b.closedWith).toEqual([err]);
  });

  test("a throwing writer does not break the others; its error surfaces from close", async () => {
    const a = recorder();
    const c = recorder();
    const boom = new Error("disk full");
    const bad: ProgressWriter = {
      write: () => {
        throw boom;
      },
      close: async () => {
        throw new Error("close failed");
      },
    };
    const t = tee(a, bad, c);
    t.write(ev(1));
    t.write(ev(2));
    const closing = t.close();
    await expect(closing).rejects.toBeInstanceOf(AggregateError);
    const err = (await closing.catch((e: unknown) => e)) as AggregateError;
    expect(err.errors).toEqual([boom]); // first error per writer
    expect(a.seen).toEqual([ev(1), ev(2)]);
    expect(c.seen).toEqual([ev(1), ev(2)]);
    expect(a.closedWith).toHaveLength(1);
    expect(c.closedWith).toHaveLength(1);
  });

  test("a writer whose close rejects does not keep the others from closing", async () => {
    const a = recorder();
    const t = tee({ write: () => {}, close: () => Promise.reject(new Error("nope")) }, a);
    await expect(t.close()).rejects.toThrow("progress writers failed");
    expect(a.closedWith).toHaveLength(1);
  });

  test("close is idempotent and later writes are dropped", async () => {
    const a = recorder();
    const t = tee(a);
    await t.close();
    await t.close();
    t.write(ev(1));
    expect(a.seen).toEqual([]);
    expect(a.closedWith).toHaveLength(1);
  });
});
