import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Digest } from "../../../../src/core/digest.ts";
import { sha256 } from "../../../../src/core/digest.ts";
import { openStatCache } from "../../../../src/core/sources/local/index.ts";
import { CopyRecordFiles } from "../../../../src/core/sources/local/copy-records.ts";
import type { StatRecord } from "../../../../src/core/sources/local/index.ts";

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "buildkit-ts-stat-cache-"));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const record = (over: Partial<StatRecord> = {}): StatRecord => ({
  size: 42,
  mtimeNs: 1_700_000_000_123_456_789n,
  ctimeNs: 1_700_000_001_000_000_000n,
  ino: 12345n,
  dev: 2049n,
  mode: 0o100644,
  uid: 1000,
  gid: 1000,
  contentDigest: sha256("x"),
  ...over,
});

describe("openStatCache", () => {
  test("round-trips records, including 64-bit inode and device numbers", () => {
    const cache = openStatCache(join(base, "c.db"));
    const big = record({ ino: (1n << 64n) - 1n, dev: 1n << 63n, mtimeNs: -5n });
    const link = record({ mode: 0o120777, linkTarget: "../x", contentDigest: undefined });
    cache.update("/r", { put: [["a", big], ["l", link]] });
    expect(cache.get("/r", "a")).toEqual(big);
    expect(cache.get("/r", "l")).toEqual({ ...link, contentDigest: undefined });
    expect(cache.get("/r", "missing")).toBeUndefined();
    expect(cache.get("/other", "a")).toBeUndefined();
    expect([...cache.load("/r").keys()].sort()).toEqual(["a", "l"]);
    cache.close();
  });

  test("updates replace and remove; roots are separate", () => {
    const cache = openStatCache(join(base, "c.db"));
    cache.update("/r1", { put: [["a", record()]] });
    cache.update("/r2", { put: [["a", record({ size: 7 })]] });
    cache.update("/r1", { put: [["a", record({ contentDigest: sha256("y") as Digest })]], remove: ["nothing"] });
    expect(cache.get("/r1", "a")?.contentDigest).toBe(sha256("y"));
    expect(cache.get("/r2", "a")?.size).toBe(7);
    cache.update("/r2", { remove: ["a"] });
    expect(cache.load("/r2").size).toBe(0);
    expect(cache.load("/r1").size).toBe(1);
    cache.close();
  });

  test("a copy's records and a tree stamp round-trip; a new copy replaces the old", () => {
    const cache = openStatCache(join(base, "c.db"));
    // (walk records as walk-records.ts lays them out: here, opaque words)
    const one = { walk: Uint8Array.from({ length: 8 }, (_, i) => i), ends: Uint32Array.of(4, 8), reusable: Uint8Array.of(1, 0) };
    const two = { walk: new Uint8Array(12).fill(7), ends: Uint32Array.of(12), reusable: Uint8Array.of(1) };
    cache.setLastCopy("k", "snap-1", one);
    cache.setLastCopy("k", "snap-2", two);
    const last = cache.lastCopy("k");
    expect(last?.snapshot).toBe("snap-2");
    expect([last?.records.walk, last?.records.ends, last?.records.reusable].map((a) => [...(a ?? [])])).toEqual([[...two.walk], [12], [1]]);
    expect(cache.lastCopy("other")).toBeUndefined();
    expect(cache.lastCopySnapshot("k")).toBe("snap-2");
    expect(cache.lastCopySnapshot("other")).toBeUndefined();
    // The records are a file naming their snapshot: one naming another (a crash between the
    // file and the row), or damaged, is not used.
    const copies = join(base, "c.db.copies");
    expect(new CopyRecordFiles(copies).get("k", "snap-1")).toBeUndefined();
    expect(new CopyRecordFiles(copies).get("k", "snap-2")).toBeDefined();
    const [name] = readdirSync(copies);
    const file = join(copies, name ?? "none");
    const damaged = readFileSync(file);
    damaged[20] = (damaged[20] ?? 0) ^ 0xff;
    writeFileSync(file, damaged);
    expect(cache.lastCopy("k")).toBeUndefined();
    expect(cache.lastCopySnapshot("k")).toBe("snap-2");
    const stamp = { stamp: "ab", digest: sha256("tree"), files: 3, bytes: 2 ** 40 };
    expect(cache.treeStamp("t")).toBeUndefined();
    cache.setTreeStamp("t", stamp);
    expect(cache.treeStamp("t")).toEqual(stamp);
    cache.close();
  });

  test("tree stamps are files: an unchanged tree never opens the database", () => {
    const path = join(base, "c.db");
    const stamp = { stamp: "ab", digest: sha256("tree"), files: 3, bytes: 2 ** 40 };
    const first = openStatCache(path);
    first.setTreeStamp("t", stamp);
    first.setTreeStamp("t", { ...stamp, stamp: "cd" }); // replaced whole
    first.close();
    const second = openStatCache(path);
    expect(second.treeStamp("t")).toEqual({ ...stamp, stamp: "cd" });
    expect(second.treeStamp("other")).toBeUndefined();
    second.close();
    expect(existsSync(path)).toBe(false);
    // One file per key, no temporary left; a damaged one (or one for another key) counts as none.
    const files = readdirSync(`${path}.stamps`);
    expect(files.length).toBe(1);
    writeFileSync(join(`${path}.stamps`, files[0]!), '{"key":"t","stamp":"cd"');
    expect(openStatCache(path).treeStamp("t")).toBeUndefined();
    writeFileSync(join(`${path}.stamps`, files[0]!), JSON.stringify({ key: "u", ...stamp }));
    expect(openStatCache(path).treeStamp("t")).toBeUndefined();
  });

  test("persists in WAL mode; an older layout is dropped", () => {
    const path = join(base, "c.db");
    const first = openStatCache(path);
    first.update("/r", { put: [["a", record()]] });
    first.close();
    const db = new Database(path);
    expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
    db.run("PRAGMA user_version = 0");
    db.close();
    const second = openStatCache(path);
    expect(second.get("/r", "a")).toBeUndefined();
    second.update("/r", { put: [["b", record()]] });
    second.close();
    const third = openStatCache(path);
    expect(third.get("/r", "b")).toEqual(record());
    third.close();
  });
});
