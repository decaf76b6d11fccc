import { describe, expect, test } from "bun:test";
import { sha256 } from "../../../src/core/digest.ts";
import { createProgressState } from "../../../src/core/progress/collector.ts";

const [A, B, C, D, E] = [sha256("a"), sha256("b"), sha256("c"), sha256("d"), sha256("e")];
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("progress state", () => {
  test("orders vertices by start and counts outcomes", () => {
    const s = createProgressState();
    s.apply({ type: "vertex", digest: A, name: "a", inputs: [] });
    s.apply({ type: "vertex", digest: B, name: "b", inputs: [A], started: 10 });
    s.apply({ type: "vertex", digest: C, name: "c", inputs: [], started: 5, completed: 5, cached: true });
    s.apply({ type: "vertex", digest: D, name: "d", inputs: [], started: 11, completed: 12, error: "exit code: 1" });
    s.apply({ type: "vertex", digest: E, name: "e", inputs: [], started: 12, completed: 13, error: "context canceled" });
    expect(s.vertices().map((v) => v.name)).toEqual(["b", "c", "d", "e", "a"]);
    expect(s.counts()).toEqual({ total: 5, running: 1, done: 3, cached: 1, errored: 1, canceled: 1 });

    s.apply({ type: "vertex", digest: B, name: "b", inputs: [A], started: 10, completed: 20 });
    s.apply({ type: "vertex", digest: A, name: "a", inputs: [], started: 21 });
    expect(s.vertices().map((v) => v.name)).toEqual(["b", "c", "d", "e", "a"]);
    expect(s.counts()).toMatchObject({ running: 1, done: 4 });
    expect(s.get(B)).toMatchObject({ started: 10, completed: 20, cached: false, canceled: false, inputs: [A] });
  });

  test("a restarted vertex loses its previous outcome", () => {
    const s = createProgressState();
    s.apply({ type: "vertex", digest: A, name: "a", inputs: [], started: 1, completed: 2, error: "boom" });
    s.apply({ type: "vertex", digest: A, name: "a", inputs: [], started: 3 });
    expect(s.get(A)).toMatchObject({ started: 3, completed: undefined, error: undefined });
    expect(s.counts()).toMatchObject({ running: 1, done: 0, errored: 0 });
  });

  test("keeps the latest status per id and a tail of log lines", () => {
    const s = createProgressState({ logTailLines: 3 });
    s.apply({ type: "vertex", digest: A, name: "a", inputs: [], started: 1 });
    s.apply({ type: "status", vertex: A, id: "pull", current: 1, total: 4 });
    s.apply({ type: "status", vertex: A, id: "pull", current: 4, total: 4, completed: 9 });
    s.apply({ type: "log", vertex: A, stream: 1, data: enc("1\n2\r\n3\n4\npart"), time: 2 });
    s.apply({ type: "log", vertex: A, stream: 2, data: enc("err"), time: 3 });
    expect([...(s.get(A)?.statuses.values() ?? [])]).toEqual([{ id: "pull", current: 4, total: 4, completed: 9 }]);
    expect(s.get(A)?.logTail()).toEqual(["4", "part", "err"]);
    s.apply({ type: "log", vertex: A, stream: 1, data: enc("ial\n"), time: 4 });
    expect(s.get(A)?.logTail()).toEqual(["4", "partial", "err"]);
  });
});
