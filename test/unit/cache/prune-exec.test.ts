// Usage records and prune on a real overlay snapshotter and cache index in a temp dir (no
// mounts, so no root needed): content is written straight into the snapshots' directories.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOverlaySnapshotter, type OverlaySnapshotter } from "../../../src/backends/standalone/snapshotter.ts";
import { runGC } from "../../../src/core/cache/gc.ts";
import { prune } from "../../../src/core/cache/prune.ts";
import { openCacheStore, type CacheStore } from "../../../src/core/cache/store.ts";
import { collectUsage, type UsageRecord } from "../../../src/core/cache/usage.ts";
import { sha256 } from "../../../src/core/digest.ts";
import type { Mount } from "../../../src/core/worker/mount.ts";
import type { Worker } from "../../../src/core/worker/worker.ts";

let root: string;
let snapshotter: OverlaySnapshotter;
let store: CacheStore;
let clock: number;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "prune-exec-"));
  snapshotter = await createOverlaySnapshotter({ root });
  clock = 1_000_000;
  store = openCacheStore(join(root, "cache.db"), { now: () => clock });
});

afterEach(async () => {
  store.close();
  await snapshotter.close();
  rmSync(root, { recursive: true, force: true });
});

/** The directory a prepared snapshot's own content lives in. */
function upper(mounts: readonly Mount[]): string {
  const m = mounts[0];
  if (m?.type === "bind") return m.source;
  const opt = m?.options?.find((o) => o.startsWith("upperdir="));
  if (!opt) throw new Error("no upper dir");
  return opt.slice("upperdir=".length);
}

/** A committed snapshot with `bytes` of content; recorded in the index unless record is false. */
async function make(name: string, opts: { parent?: string; bytes?: number; kind?: string; description?: string; record?: boolean } = {}): Promise<void> {
  const mounts = await snapshotter.prepare(`key-${name}`, opts.parent);
  writeFileSync(join(upper(mounts), `${name}.bin`), Buffer.alloc(opts.bytes ?? 8192, 1));
  await snapshotter.commit(name, `key-${name}`);
  clock += 1000;
  if (opts.record !== false) store.save(sha256(name), 0, name, { kind: opts.kind ?? "exec", description: opts.description ?? `make ${name}`, parents: opts.parent ? [opts.parent] : [] });
}

const byId = (records: readonly UsageRecord[]) => new Map(records.map((r) => [r.id, r]));
const src = (extra: { inUse?: ReadonlySet<string> } = {}) => ({ snapshotter, store, cacheMountsDir: join(root, "cache-mounts"), now: () => clock, ...extra });

describe("collectUsage", () => {
  test("one record per committed snapshot and cache mount, with types, sizes and sharing", async () => {
    await make("base", { kind: "source", description: "local://rootfs", bytes: 40_000 });
    await make("step", { parent: "base" });
    await make("orphan", { parent: "base", record: false });
    const cm = join(root, "cache-mounts", sha256("npm").slice(7));
    mkdirSync(cm, { recursive: true });
    writeFileSync(join(cm, "blob"), Buffer.alloc(20_000, 2));
    store.save(sha256("gone"), 0, "gone", { kind: "exec" });

    const records = byId(await collectUsage(src()));
    expect([...records.keys()].sort()).toEqual(["base", sha256("npm").slice(7), "orphan", "step"].sort());
    expect(records.get("base")).toMatchObject({ type: "source.local", shared: true, description: "local://rootfs", inUse: false });
    expect(records.get("base")?.size).toBeGreaterThanOrEqual(40_000);
    expect(records.get("step")).toMatchObject({ type: "regular", parent: "base", shared: false, inputs: ["base"], usageCount: 1 });
    expect(records.get("orphan")).toMatchObject({ type: "internal", lastUsed: undefined });
    expect(records.get(sha256("npm").slice(7))).toMatchObject({ type: "exec.cachemount" });
    expect(records.get(sha256("npm").slice(7))?.size).toBeGreaterThanOrEqual(20_000);
    // Sizes are measured once and kept in the index.
    expect(store.get("step")?.size).toBe(records.get("step")?.size);
  });

  test("held snapshots, and everything under them or under an active snapshot, are in use", async () => {
    await make("a");
    await make("b", { parent: "a" });
    await make("c");
    await make("d");
    await snapshotter.prepare("running", "d");
    const records = byId(await collectUsage(src({ inUse: new Set(["b"]) })));
    expect([records.get("a")?.inUse, records.get("b")?.inUse, records.get("c")?.inUse, records.get("d")?.inUse]).toEqual([true, true, false, true]);
  });
});

describe("prune", () => {
  test("--all removes children before parents, index rows with them, and dangling index rows", async () => {
    await make("base");
    await make("mid", { parent: "base" });
    await make("top", { parent: "mid" });
    await make("internal", { parent: "base", record: false });
    store.save(sha256("gone"), 0, "gone", { kind: "exec" });
    const order: string[] = [];
    const report = await prune(src(), { all: true }, { onRemoved: (r) => order.push(r.id) });
    expect(order.indexOf("top")).toBeLessThan(order.indexOf("mid"));
    expect(order.indexOf("mid")).toBeLessThan(order.indexOf("base"));
    expect(order.indexOf("internal")).toBeLessThan(order.indexOf("base"));
    expect(report.dangling).toBe(1);
    expect(report.reclaimed).toBe(report.removed.reduce((s, r) => s + r.size, 0));
    expect(await snapshotter.list()).toEqual([]);
    expect(store.list()).toEqual([]);
    expect(store.lookup(sha256("top"), 0)).toBeUndefined();
    expect(readdirSync(join(root, "snapshots")).filter((n) => /^\d+$/.test(n))).toEqual([]);
  });

  test("without --all an internal snapshot stays, and so does its parent", async () => {
    await make("base");
    await make("internal", { parent: "base", record: false });
    await make("other");
    const report = await prune(src(), {});
    expect(report.removed.map((r) => r.id)).toEqual(["other"]);
    expect((await snapshotter.list()).map((s) => s.name).sort()).toEqual(["base", "internal"]);
  });

  test("an image's lower layer (no record of its own) is a regular record, pruned without --all once its children are gone", async () => {
    const lower = `layer-${sha256("lower")}`;
    await make(lower, { record: false });
    await make("top", { parent: lower, kind: "source", description: "docker-image://example.com/app:latest" });
    const records = byId(await collectUsage(src()));
    expect(records.get(lower)).toMatchObject({ type: "regular", description: "pulled image layer", shared: true });
    await prune(src(), {});
    expect(await snapshotter.list()).toEqual([]);
  });

  test("a snapshot whose index rows went but whose data stayed (a crash) is removed later as internal", async () => {
    await make("x");
    store.remove("x");
    const records = await collectUsage(src());
    expect(records.map((r) => [r.id, r.type])).toEqual([["x", "internal"]]);
    await prune(src(), { all: true });
    expect(await snapshotter.list()).toEqual([]);
  });

  test("nothing in use goes: neither held records nor what they are layered on", async () => {
    await make("base");
    await make("held", { parent: "base" });
    await make("free");
    const report = await prune(src({ inUse: new Set(["held"]) }), { all: true });
    expect(report.removed.map((r) => r.id)).toEqual(["free"]);
    expect((await snapshotter.list()).map((s) => s.name).sort()).toEqual(["base", "held"]);
  });

  test("a hold taken after planning keeps the record and its ancestors", async () => {
    await make("base");
    await make("late", { parent: "base" });
    await make("free");
    const holds = new Set<string>();
    // The hold appears once the records are collected, as a build in this process would take it.
    const report = await prune({ ...src(), currentInUse: () => holds.add("late") }, { all: true });
    expect(report.removed.map((r) => r.id)).toEqual(["free"]);
    expect((await snapshotter.list()).map((s) => s.name).sort()).toEqual(["base", "late"]);
  });

  test("keep-storage removes least recently used first", async () => {
    for (const n of ["r1", "r2", "r3", "r4"]) await make(n, { bytes: 50_000 });
    clock += 1000;
    store.touch(["r1"]);
    const sizes = byId(await collectUsage(src()));
    const total = [...sizes.values()].reduce((s, r) => s + r.size, 0);
    const keep = total - (sizes.get("r2")?.size ?? 0) - (sizes.get("r3")?.size ?? 0);
    const report = await prune(src(), { keepStorage: keep });
    expect(report.removed.map((r) => r.id)).toEqual(["r2", "r3"]);
  });

  test("cache mounts are removed with their content, and leftovers of a killed prune swept", async () => {
    const dir = join(root, "cache-mounts");
    const cm = join(dir, sha256("go").slice(7));
    mkdirSync(join(cm, "sub"), { recursive: true });
    writeFileSync(join(cm, "sub/f"), "x");
    mkdirSync(join(dir, ".removing-old"), { recursive: true });
    const report = await prune(src(), { filters: [] });
    expect(report.removed.map((r) => r.type)).toEqual(["exec.cachemount"]);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("runGC", () => {
  const worker = (): Worker => ({ root, snapshotter }) as unknown as Worker;

  test("keeps the cache under a fixed limit, most recently used kept", async () => {
    store.close();
    for (let i = 0; i < 6; i++) {
      store = openCacheStore(join(root, "cache.db"), { now: () => clock });
      await make(`b${i}`, { bytes: 100_000 });
      store.close();
      await runGC(worker(), { keepStorage: 250_000, now: () => clock });
      const check = openCacheStore(join(root, "cache.db"));
      const records = await collectUsage({ snapshotter, store: check });
      check.close();
      expect(records.reduce((s, r) => s + r.size, 0)).toBeLessThanOrEqual(250_000);
      expect(records.map((r) => r.id)).toContain(`b${i}`);
    }
    store = openCacheStore(join(root, "cache.db"));
  });

  test("0 turns it off", async () => {
    await make("a", { bytes: 100_000 });
    const report = await runGC(worker(), { keepStorage: 0 });
    expect(report.removed).toEqual([]);
    expect(existsSync(join(root, "cache.db"))).toBe(true);
  });
});
