import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { StatStamp } from "../../../../src/core/sources/local/stat-stamp.ts";
import { walkTreeEach } from "../../../../src/core/sources/local/walk.ts";
import type { Entry, WalkOptions } from "../../../../src/core/sources/local/walk.ts";

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "buildkit-ts-stamp-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function tree(specs: string[]): void {
  for (const spec of specs) {
    const [path = "", target] = spec.split(" -> ");
    const abs = join(root, path);
    mkdirSync(path.endsWith("/") ? abs : dirname(abs), { recursive: true });
    if (target !== undefined) symlinkSync(target, abs);
    else if (!path.endsWith("/")) writeFileSync(abs, path);
  }
}

/** The stamp as the walk feeds it (statx words where it has them), and the walked entries. */
async function walkStamp(opts: WalkOptions = {}): Promise<{ stamp: string; entries: Entry[] }> {
  const stamp = new StatStamp();
  const entries: Entry[] = [];
  await walkTreeEach(root, opts, (e) => entries.push(e), stamp);
  return { stamp: stamp.finish(), entries };
}

/** The stamp of the same entries fed as Entry objects (the lstat path). */
function entryStamp(entries: readonly Entry[]): string {
  const stamp = new StatStamp();
  for (const e of entries) stamp.addEntry(e.path.split("/").length, e);
  return stamp.finish();
}

describe("StatStamp", () => {
  test("the walk's statx records and Entry records agree", async () => {
    tree(["a/b/c", "a/d", "e -> a/b", "f", "g/", "é/ü"]);
    const { stamp, entries } = await walkStamp();
    expect(entries.length).toBe(9);
    expect(entryStamp(entries)).toBe(stamp);
    // Filtered walks emit filtered-out ancestors late, from their Entry: still the same stamp.
    const filtered = await walkStamp({ include: ["a/b/c"] });
    expect(filtered.entries.map((e) => e.path)).toEqual(["a", "a/b", "a/b/c"]);
    expect(entryStamp(filtered.entries)).toBe(filtered.stamp);
  });

  test("equal for an unchanged tree, different after a touch, a move between levels or a new link target", async () => {
    tree(["a/x", "b", "l -> b"]);
    const first = (await walkStamp()).stamp;
    expect((await walkStamp()).stamp).toBe(first);
    utimesSync(join(root, "b"), 1000, 1000);
    const touched = (await walkStamp()).stamp;
    expect(touched).not.toBe(first);
    // a/x -> x keeps every name and, here, the walk order (a, x, b... vs a, b, x): depth tells.
    renameSync(join(root, "a/x"), join(root, "ax"));
    const moved = (await walkStamp()).stamp;
    expect(moved).not.toBe(touched);
    rmSync(join(root, "l"));
    symlinkSync("a", join(root, "l"));
    expect((await walkStamp()).stamp).not.toBe(moved);
  });

  test("a file moved from a directory to just after it changes the stamp through its depth", async () => {
    tree(["d/x"]);
    const { stamp: inside, entries } = await walkStamp();
    // Same names, same order, the same stat facts: only the depth differs.
    const flat = entries.map((e) => (e.path === "d/x" ? { ...e, path: "x" } : e));
    expect(entryStamp(entries)).toBe(inside);
    expect(entryStamp(flat)).not.toBe(inside);
  });
});
