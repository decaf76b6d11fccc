// Prune selection on fake records: which records go, and in what order.
import { describe, expect, test } from "bun:test";
import { isCandidate, planPrune, type PrunePolicy } from "../../../src/core/cache/prune.ts";
import { matchFilters, parseFilters } from "../../../src/core/cache/usage-filter.ts";
import type { UsageRecord } from "../../../src/core/cache/usage.ts";

const NOW = 1_000_000_000;
const MIN = 60e3;

function rec(id: string, over: Partial<UsageRecord> = {}): UsageRecord {
  return {
    id,
    type: "regular",
    size: 100,
    created: NOW - 100 * MIN,
    lastUsed: NOW - 50 * MIN,
    usageCount: 1,
    inUse: false,
    shared: false,
    description: `step ${id}`,
    parent: undefined,
    inputs: [],
    ...over,
  };
}

const ids = (records: readonly UsageRecord[]) => records.map((r) => r.id);
const plan = (records: readonly UsageRecord[], policy: PrunePolicy = {}) => ids(planPrune(records, policy, NOW));

describe("planPrune", () => {
  test("without limits every unused record goes, least recently used first", () => {
    const records = [rec("b", { lastUsed: NOW - 2 * MIN }), rec("a", { lastUsed: NOW - 9 * MIN }), rec("c", { lastUsed: NOW - 1 * MIN })];
    expect(plan(records)).toEqual(["a", "b", "c"]);
  });

  test("ties in last use go by usage count, then creation, then id", () => {
    const t = NOW - MIN;
    const records = [rec("x", { lastUsed: t, usageCount: 5 }), rec("y", { lastUsed: t, usageCount: 1, created: t - 1 }), rec("z", { lastUsed: t, usageCount: 1, created: t - 2 })];
    expect(plan(records)).toEqual(["z", "y", "x"]);
  });

  test("records in use are never selected, even with all", () => {
    expect(plan([rec("a", { inUse: true }), rec("b")], { all: true })).toEqual(["b"]);
  });

  test("internal and frontend records need all", () => {
    const records = [rec("i", { type: "internal", lastUsed: undefined }), rec("f", { type: "frontend" }), rec("r"), rec("l", { type: "source.local" }), rec("c", { type: "exec.cachemount" })];
    expect(plan(records).sort()).toEqual(["c", "l", "r"]);
    expect(plan(records, { all: true }).sort()).toEqual(["c", "f", "i", "l", "r"]);
  });

  test("keep-duration keeps what was used within it", () => {
    const records = [rec("old", { lastUsed: NOW - 25 * 60 * MIN }), rec("new", { lastUsed: NOW - 23 * 60 * MIN })];
    expect(plan(records, { keepDuration: 24 * 60 * MIN })).toEqual(["old"]);
  });

  test("keep-duration judges a never-used record by its creation", () => {
    const records = [rec("fresh", { type: "internal", lastUsed: undefined, created: NOW - MIN }), rec("stale", { type: "internal", lastUsed: undefined, created: NOW - 90 * MIN })];
    expect(plan(records, { all: true, keepDuration: 60 * MIN })).toEqual(["stale"]);
  });

  test("keep-storage removes least recently used until the total is under it", () => {
    const records = [1, 2, 3, 4].map((n) => rec(`r${n}`, { lastUsed: NOW - (10 - n) * MIN, size: 100 }));
    expect(plan(records, { keepStorage: 250 })).toEqual(["r1", "r2"]);
    expect(plan(records, { keepStorage: 200 })).toEqual(["r1", "r2"]);
    expect(plan(records, { keepStorage: 199 })).toEqual(["r1", "r2", "r3"]);
  });

  test("keep-storage at or above the total removes nothing", () => {
    expect(plan([rec("a"), rec("b")], { keepStorage: 200 })).toEqual([]);
    expect(plan([rec("a"), rec("b")], { keepStorage: 10_000 })).toEqual([]);
  });

  test("keep-storage counts records it may not remove", () => {
    const records = [rec("held", { inUse: true, size: 300 }), rec("a", { size: 100, lastUsed: NOW - 9 * MIN }), rec("b", { size: 100, lastUsed: NOW - MIN })];
    // 500 in all, 300 of them held: both others go and the total is still over the limit.
    expect(plan(records, { keepStorage: 350 })).toEqual(["a", "b"]);
  });

  test("a function limit gets the total", () => {
    const seen: number[] = [];
    const records = [rec("a", { size: 70 }), rec("b", { size: 30, lastUsed: NOW })];
    expect(plan(records, { keepStorage: (total) => (seen.push(total), 50) })).toEqual(["a"]);
    expect(seen).toEqual([100]);
  });

  test("children go before their parents; a parent waits for all of them", () => {
    // base (old) ← a, base ← b; a ← a2. base is least recently used but layered on.
    const records = [
      rec("base", { lastUsed: NOW - 99 * MIN, shared: true }),
      rec("a", { parent: "base", lastUsed: NOW - 5 * MIN, shared: true }),
      rec("a2", { parent: "a", lastUsed: NOW - 1 * MIN }),
      rec("b", { parent: "base", lastUsed: NOW - 3 * MIN }),
    ];
    expect(plan(records)).toEqual(["b", "a2", "a", "base"]);
  });

  test("a parent becomes eligible as soon as its last child goes, in LRU order", () => {
    const records = [rec("p", { lastUsed: NOW - 50 * MIN }), rec("c", { parent: "p", lastUsed: NOW - 40 * MIN }), rec("x", { lastUsed: NOW - 10 * MIN })];
    expect(plan(records)).toEqual(["c", "p", "x"]);
    expect(plan(records, { keepStorage: 150 })).toEqual(["c", "p"]);
  });

  test("a parent whose child stays (in use, kept or filtered out) stays", () => {
    const base = rec("base", { lastUsed: NOW - 99 * MIN });
    expect(plan([base, rec("c", { parent: "base", inUse: true })])).toEqual([]);
    expect(plan([base, rec("c", { parent: "base", lastUsed: NOW })], { keepDuration: 10 * MIN })).toEqual([]);
    expect(plan([base, rec("c", { parent: "base", type: "source.local" })], { filters: parseFilters(["type==regular"]) })).toEqual([]);
  });

  test("filters select what may go", () => {
    const records = [rec("aa1", { type: "source.local", description: "local://rootfs" }), rec("bb2", { description: "sh -c make" }), rec("aa3", { description: "sh -c apk add" })];
    expect(plan(records, { filters: parseFilters(["type==source.local"]) })).toEqual(["aa1"]);
    expect(plan(records, { filters: parseFilters(["id~=^aa"]) }).sort()).toEqual(["aa1", "aa3"]);
    expect(plan(records, { filters: parseFilters(["description~=apk"]) })).toEqual(["aa3"]);
  });
});

describe("filters", () => {
  const r = rec("abc123", { type: "source.local", description: "local://rootfs", parent: "p1", shared: true, lastUsed: NOW - 2 * 60 * MIN });

  test("terms on one field are alternatives, on different fields all must match", () => {
    expect(matchFilters(r, parseFilters(["type==regular,type==source.local"]), NOW)).toBe(true);
    expect(matchFilters(r, parseFilters(["type==regular", "type==exec.cachemount"]), NOW)).toBe(false);
    expect(matchFilters(r, parseFilters(["type==source.local", "description~=rootfs"]), NOW)).toBe(true);
    expect(matchFilters(r, parseFilters(["type==source.local", "description~=other"]), NOW)).toBe(false);
  });

  test("operators and flags", () => {
    const yes = ["id==abc123", "id=abc123", "id!=zzz", "id~=^abc", "parent==p1", "shared", "immutable", "until=1h", "type!=regular"];
    const no = ["id==abc", "id~=^bc", "private", "inuse", "mutable", "until=3h", "parent~=^x"];
    for (const f of yes) expect([f, matchFilters(r, parseFilters([f]), NOW)]).toEqual([f, true]);
    for (const f of no) expect([f, matchFilters(r, parseFilters([f]), NOW)]).toEqual([f, false]);
  });

  test("no filters match everything", () => {
    expect(matchFilters(r, [], NOW)).toBe(true);
  });

  test("bad filters are InvalidArgument errors", () => {
    for (const bad of ["colour==red", "id", "id~=(", "until>1h", "until=soon"]) {
      expect(() => parseFilters([bad])).toThrow(expect.objectContaining({ code: "InvalidArgument" }));
    }
  });

  test("isCandidate combines the rules", () => {
    expect(isCandidate(rec("a"), {}, NOW)).toBe(true);
    expect(isCandidate(rec("a", { inUse: true }), { all: true }, NOW)).toBe(false);
    expect(isCandidate(rec("a", { type: "internal" }), {}, NOW)).toBe(false);
    expect(isCandidate(rec("a", { lastUsed: NOW - MIN }), { keepDuration: 2 * MIN }, NOW)).toBe(false);
  });
});
