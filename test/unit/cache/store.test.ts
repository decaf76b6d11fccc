import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SCHEMA_VERSION } from "../../../src/core/cache/schema.ts";
import { openCacheStore, type CacheStore } from "../../../src/core/cache/store.ts";
import { sha256 } from "../../../src/core/digest.ts";

let dir: string;
let path: string;
let clock: number;
let store: CacheStore;
const key = sha256("key");
const other = sha256("other");

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cache-store-"));
  path = join(dir, "metadata.db");
  clock = 1000;
  store = openCacheStore(path, { now: () => clock });
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("cache store", () => {
  test("a miss is undefined", () => {
    expect(store.lookup(key, 0)).toBeUndefined();
    expect(store.get("nothing")).toBeUndefined();
  });

  test("records a result per key and output", () => {
    store.save(key, 0, "r0", { description: "step", kind: "exec", parents: ["p1", "p2"], size: 42 });
    store.save(key, 1, "r1");
    expect(store.lookup(key, 0)).toBe("r0");
    expect(store.lookup(key, 1)).toBe("r1");
    expect(store.lookup(key, 2)).toBeUndefined();
    expect(store.lookup(other, 0)).toBeUndefined();
    expect(store.get("r0")).toEqual({
      id: "r0", created: 1000, lastUsed: 1000, usageCount: 1, size: 42, description: "step", kind: "exec", parents: ["p1", "p2"],
    });
  });

  test("a newer result replaces the record of a key; both results stay", () => {
    store.save(key, 0, "old");
    store.save(key, 0, "new");
    expect(store.lookup(key, 0)).toBe("new");
    expect(store.list().map((r) => r.id).sort()).toEqual(["new", "old"]);
  });

  test("one result under several keys", () => {
    store.save(key, 0, "r");
    store.save(other, 0, "r", { description: "again" });
    expect(store.lookup(other, 0)).toBe("r");
    expect(store.get("r")?.description).toBe("again");
    expect(store.list()).toHaveLength(1);
  });

  test("touch updates last use and usage count", () => {
    store.save(key, 0, "r");
    clock = 5000;
    store.touch(["r", "unknown"]);
    expect(store.get("r")).toMatchObject({ created: 1000, lastUsed: 5000, usageCount: 2 });
  });

  test("hits go to the journal beside the database, not a transaction, and count once folded", () => {
    store.save(key, 0, "r");
    store.close();
    const walBefore = existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0;
    store = openCacheStore(path, { now: () => clock });
    clock = 5000;
    store.touch(["r"]);
    clock = 7000;
    store.touch(["r", "unknown"]);
    expect(readFileSync(`${path}.hits`, "utf8")).toBe("5000 r\n7000 r\n7000 unknown\n");
    expect(existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0).toBe(walBefore);
    // Read back in another process's place: a fresh store folds the journal in, then empties it.
    store.close();
    store = openCacheStore(path, { now: () => clock });
    expect(store.get("r")).toMatchObject({ created: 1000, lastUsed: 7000, usageCount: 3 });
    expect(readFileSync(`${path}.hits`, "utf8")).toBe("");
    expect(store.get("r")).toMatchObject({ usageCount: 3 });
  });

  test("a hit line cut short or garbled is skipped, never an error; a later time wins", () => {
    store.save(key, 0, "r");
    clock = 9000;
    writeFileSync(`${path}.hits`, "8000 r\n12 \nnot a line\n3000 r\n90");
    expect(store.get("r")).toMatchObject({ lastUsed: 8000, usageCount: 3 });
  });

  test("an id that cannot be a journal line is touched in the database directly", () => {
    store.save(key, 0, "a b");
    clock = 4000;
    store.touch(["a b"]);
    expect(existsSync(`${path}.hits`) ? readFileSync(`${path}.hits`, "utf8") : "").toBe("");
    expect(store.get("a b")).toMatchObject({ lastUsed: 4000, usageCount: 2 });
  });

  test("hits are folded before a removal and before a save", () => {
    store.save(key, 0, "r");
    store.touch(["r"]);
    expect(store.remove("r")).toBe(true);
    expect(readFileSync(`${path}.hits`, "utf8")).toBe("");
    store.save(other, 0, "s");
    store.touch(["s"]);
    store.save(key, 0, "t");
    expect(readFileSync(`${path}.hits`, "utf8")).toBe("");
    expect(store.get("s")?.usageCount).toBe(2);
  });

  test("setSize records a measured size", () => {
    store.save(key, 0, "r");
    expect(store.get("r")?.size).toBeUndefined();
    store.setSize("r", 1234);
    expect(store.get("r")?.size).toBe(1234);
  });

  test("list is least recently used first", () => {
    store.save(key, 0, "a");
    clock = 2000;
    store.save(other, 0, "b");
    clock = 3000;
    store.touch(["a"]);
    expect(store.list().map((r) => r.id)).toEqual(["b", "a"]);
  });

  test("remove forgets the result and its keys", () => {
    store.save(key, 0, "r", { parents: ["p"] });
    store.save(other, 0, "r");
    expect(store.remove("r")).toBe(true);
    expect(store.remove("r")).toBe(false);
    expect(store.lookup(key, 0)).toBeUndefined();
    expect(store.lookup(other, 0)).toBeUndefined();
    expect(store.list()).toEqual([]);
  });

  test("persists across reopening the file", () => {
    store.save(key, 0, "r", { description: "kept", parents: ["p"] });
    store.close();
    store = openCacheStore(path);
    expect(store.lookup(key, 0)).toBe("r");
    expect(store.get("r")).toMatchObject({ description: "kept", parents: ["p"] });
  });

  test("uses WAL and records its schema version", () => {
    store.close();
    const db = new Database(path);
    expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
    expect(db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version).toBe(SCHEMA_VERSION);
    db.close();
    store = openCacheStore(path);
  });

  test("refuses a database from a newer version", () => {
    store.close();
    const db = new Database(path);
    db.run(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openCacheStore(path)).toThrow(/schema version \d+ is newer/);
    store = openCacheStore(":memory:");
  });
});
