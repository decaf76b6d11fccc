// The shared test suite every Snapshotter runs (after containerd's snapshots/testsuite): it
// mounts what the snapshotter returns with the standalone backend's mountAll, so it needs root.
// Each test gets a fresh snapshotter from the factory and cleans up mounts and dirs in finally.
import { describe, expect, test } from "bun:test";
import { linkSync, readdirSync, readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { withMounted } from "../../src/backends/standalone/sys/mount.ts";
import { BuildkitError } from "../../src/core/errors.ts";
import type { ErrorCode } from "../../src/core/errors.ts";
import type { Mount } from "../../src/core/worker/mount.ts";
import type { Snapshotter } from "../../src/core/worker/snapshotter.ts";

export interface SnapshotterFixture {
  readonly snapshotter: Snapshotter;
  cleanup(): Promise<void>;
}

type Files = Record<string, string>;

/** Every regular file under dir, by relative path, with its content. */
function readTree(dir: string, prefix = ""): Files {
  const files: Files = {};
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) Object.assign(files, readTree(dir, rel));
    else files[rel] = readFileSync(join(dir, rel), "utf8");
  }
  return files;
}

const contents = (mounts: readonly Mount[]) => withMounted(mounts, async (dir) => readTree(dir));

/** Mounts mounts and writes files into them (a missing content deletes the file). */
async function change(mounts: readonly Mount[], files: Record<string, string | undefined>): Promise<void> {
  await withMounted(mounts, async (dir) => {
    for (const [path, content] of Object.entries(files)) {
      if (content === undefined) await rm(join(dir, path));
      else await writeFile(join(dir, path), content);
    }
  });
}

/** Prepares on parent, applies files, commits as name. */
async function layer(s: Snapshotter, name: string, parent: string | undefined, files: Record<string, string | undefined>): Promise<void> {
  const key = `${name} (active)`;
  await change(await s.prepare(key, parent), files);
  await s.commit(name, key);
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BuildkitError);
  expect((err as BuildkitError).code).toBe(code);
}

async function expectReadOnly(mounts: readonly Mount[]): Promise<void> {
  await withMounted(mounts, async (dir) => {
    const err = await writeFile(join(dir, "new-file"), "x").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: "EROFS" });
  });
}

export function describeSnapshotter(name: string, factory: () => Promise<SnapshotterFixture>): void {
  /** Runs fn on a fresh snapshotter and always cleans it up. */
  const withSnapshotter = async (fn: (s: Snapshotter) => Promise<void>) => {
    const fixture = await factory();
    try {
      await fn(fixture.snapshotter);
    } finally {
      await fixture.cleanup();
    }
  };

  describe(`Snapshotter conformance: ${name}`, () => {
    test("prepare, write, commit; a child sees its parent, adds and deletes; a view shows the result", () =>
      withSnapshotter(async (s) => {
        await change(await s.prepare("base-key"), { "a.txt": "from base", "b.txt": "also base" });
        await s.commit("base", "base-key");
        const child = await s.prepare("child-key", "base");
        expect(await contents(child)).toEqual({ "a.txt": "from base", "b.txt": "also base" });
        await change(child, { "c.txt": "from child", "a.txt": undefined });
        await s.commit("child", "child-key");
        expect(await contents(await s.view("child-view", "child"))).toEqual({ "b.txt": "also base", "c.txt": "from child" });
        expect(await contents(await s.view("base-view", "base"))).toEqual({ "a.txt": "from base", "b.txt": "also base" });
      }));

    test("mounts(key) returns an active snapshot's mounts again", () =>
      withSnapshotter(async (s) => {
        await layer(s, "base", undefined, { f: "1" });
        const mounts = await s.prepare("work", "base");
        expect(await s.mounts("work")).toEqual(mounts);
        await expectCode(s.mounts("missing"), "NotFound");
      }));

    test("views are read-only: empty, one parent and a chain", () =>
      withSnapshotter(async (s) => {
        await layer(s, "one", undefined, { f: "1" });
        await layer(s, "two", "one", { g: "2" });
        await expectReadOnly(await s.view("v0"));
        await expectReadOnly(await s.view("v1", "one"));
        await expectReadOnly(await s.view("v2", "two"));
        expect(await contents(await s.view("v0-again"))).toEqual({});
      }));

    test("remove refuses a parent with children; child then parent works", () =>
      withSnapshotter(async (s) => {
        await layer(s, "parent", undefined, { f: "1" });
        await layer(s, "child", "parent", { g: "2" });
        await expectCode(s.remove("parent"), "FailedPrecondition");
        await s.remove("child");
        await s.remove("parent");
        expect(await s.stat("parent")).toBeUndefined();
        expect(await s.list()).toEqual([]);
        await expectCode(s.remove("parent"), "NotFound");
      }));

    test("active snapshots and views can be removed", () =>
      withSnapshotter(async (s) => {
        await layer(s, "base", undefined, { f: "1" });
        await s.prepare("active", "base");
        await s.view("view", "base");
        await expectCode(s.remove("base"), "FailedPrecondition");
        await s.remove("active");
        await s.remove("view");
        await s.remove("base");
        expect(await s.list()).toEqual([]);
      }));

    test("usage counts only the snapshot's own bytes, hard links once", () =>
      withSnapshotter(async (s) => {
        await layer(s, "big", undefined, { big: "x".repeat(256 * 1024) });
        await layer(s, "small", "big", { small: "y".repeat(8 * 1024) });
        const big = await s.usage("big");
        const small = await s.usage("small");
        expect(big.size).toBeGreaterThanOrEqual(256 * 1024);
        expect(small.size).toBeGreaterThanOrEqual(8 * 1024);
        expect(small.size).toBeLessThan(128 * 1024);
        expect(small.inodes).toBe(big.inodes);

        await withMounted(await s.prepare("linked", "small"), async (dir) => {
          await writeFile(join(dir, "data"), "z".repeat(64 * 1024));
          linkSync(join(dir, "data"), join(dir, "link"));
        });
        const linked = await s.usage("linked");
        expect(linked.inodes).toBe(small.inodes);
        expect(linked.size).toBeLessThan(2 * 64 * 1024);
        await expectCode(s.usage("missing"), "NotFound");
      }));

    test("stat and list report kinds and parents", () =>
      withSnapshotter(async (s) => {
        await layer(s, "base", undefined, {});
        await s.prepare("active", "base");
        await s.view("view", "base");
        await s.view("empty-view");
        expect(await s.stat("base")).toMatchObject({ name: "base", kind: "committed" });
        expect((await s.stat("base"))?.parent).toBeUndefined();
        expect(await s.stat("active")).toMatchObject({ name: "active", kind: "active", parent: "base" });
        expect(await s.stat("view")).toMatchObject({ name: "view", kind: "view", parent: "base" });
        expect(await s.stat("base (active)")).toBeUndefined();
        expect(await s.stat("missing")).toBeUndefined();
        const listed = (await s.list()).map((i) => [i.name, i.kind, i.parent]).sort();
        expect(listed).toEqual([
          ["active", "active", "base"],
          ["base", "committed", undefined],
          ["empty-view", "view", undefined],
          ["view", "view", "base"],
        ]);
        expect((await s.stat("base"))?.created).toBeNumber();
      }));

    test("commit: unknown key NotFound, a view or a committed one FailedPrecondition", () =>
      withSnapshotter(async (s) => {
        await expectCode(s.commit("name", "missing"), "NotFound");
        await layer(s, "base", undefined, {});
        await s.view("view", "base");
        await expectCode(s.commit("from-view", "view"), "FailedPrecondition");
        await expectCode(s.commit("again", "base"), "FailedPrecondition");
      }));

    test("duplicate keys and names fail with AlreadyExists", () =>
      withSnapshotter(async (s) => {
        await s.prepare("key");
        await expectCode(s.prepare("key"), "AlreadyExists");
        await expectCode(s.view("key"), "AlreadyExists");
        await layer(s, "name", undefined, {});
        await expectCode(s.prepare("name"), "AlreadyExists");
        await expectCode(s.commit("name", "key"), "AlreadyExists");
        expect(await s.stat("key")).toMatchObject({ kind: "active" });
      }));

    test("parents must exist and be committed", () =>
      withSnapshotter(async (s) => {
        await expectCode(s.prepare("a", "missing"), "NotFound");
        await expectCode(s.view("v", "missing"), "NotFound");
        await s.prepare("active");
        await expectCode(s.prepare("b", "active"), "FailedPrecondition");
        expect(await s.stat("a")).toBeUndefined();
      }));

    test("keys and names are arbitrary strings, never paths", () =>
      withSnapshotter(async (s) => {
        const odd = ["../../escape", "/abs/path", "with space", "new\nline", "ünï©ødé", "a:b,c=d"];
        let parent: string | undefined;
        for (const [i, key] of odd.entries()) {
          const mounts = await s.prepare(`${key} active`, parent);
          for (const m of mounts) expect(`${m.source} ${m.options.join(" ")}`).not.toContain(key);
          await change(mounts, { [`f${i}`]: key });
          await s.commit(key, `${key} active`);
          parent = key;
        }
        const files = await contents(await s.view("view", parent));
        expect(Object.values(files).sort()).toEqual([...odd].sort());
      }));

    test("a chain of 30 layers mounts and reads", () =>
      withSnapshotter(async (s) => {
        let parent: string | undefined;
        for (let i = 0; i < 30; i++) {
          await layer(s, `layer-${i}`, parent, { [`file-${i}`]: String(i), top: String(i) });
          parent = `layer-${i}`;
        }
        const files = await contents(await s.prepare("top", parent));
        expect(Object.keys(files)).toHaveLength(31);
        expect(files.top).toBe("29");
        expect(files["file-0"]).toBe("0");
        const view = await contents(await s.view("top-view", parent));
        expect(view).toEqual(files);
      }));
  });
}
