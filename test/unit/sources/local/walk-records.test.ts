import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BuildkitError } from "../../../../src/core/errors.ts";
import { WalkRecords } from "../../../../src/core/sources/local/walk-records.ts";
import { walkTreeEach, walkTreeRecords } from "../../../../src/core/sources/local/walk.ts";
import type { Entry, WalkOptions } from "../../../../src/core/sources/local/walk.ts";
import { makeSpecTree } from "../../../fixtures/spec-tree.ts";

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "buildkit-ts-records-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Creates files (content = path), directories (trailing "/") and symlinks ("name -> target"). */
const tree = (specs: string[]): void => makeSpecTree(root, specs);

async function walkEach(opts: WalkOptions = {}): Promise<Entry[]> {
  const out: Entry[] = [];
  await walkTreeEach(root, opts, (e) => out.push(e));
  return out;
}

/** Records of the same entries fed as Entry objects (the lstat path). */
function fromEntries(entries: readonly Entry[]): WalkRecords {
  const records = new WalkRecords();
  for (const e of entries) records.addEntry(e.path.split("/").length, e);
  return records;
}

describe("WalkRecords", () => {
  test("entries made from the records are the walk's entries", async () => {
    tree(["a/b/c", "a/d", "e -> a/b", "f", "g/", "é/ü", "h -> " + "x".repeat(300)]);
    const records = await walkTreeRecords(root, {});
    const each = await walkEach();
    expect(each.length).toBe(10);
    expect(records.length).toBe(10);
    expect(records.entries()).toEqual(each);
    expect(fromEntries(each).entries()).toEqual(each);
  });

  test("every entry's facts are what Node's lstat reports", async () => {
    tree(["a/b", "c -> a", "d/"]);
    writeFileSync(join(root, "big"), "x".repeat(70_000));
    chmodSync(join(root, "big"), 0o4750);
    utimesSync(join(root, "a/b"), 1_600_000_000.123456, 1_700_000_000.987654);
    const entries = (await walkTreeRecords(root, {})).entries();
    expect(entries.map((e) => e.path)).toEqual(["a", "a/b", "big", "c", "d"]);
    for (const e of entries) {
      const st = lstatSync(join(root, e.path), { bigint: true });
      expect(e).toEqual({
        path: e.path,
        type: st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "file",
        mode: Number(st.mode),
        uid: Number(st.uid),
        gid: Number(st.gid),
        size: Number(st.size),
        mtimeNs: st.mtimeNs,
        ctimeNs: st.ctimeNs,
        ino: st.ino,
        dev: st.dev,
        nlink: Number(st.nlink),
        blocks: Number(st.blocks),
        linkTarget: st.isSymbolicLink() ? readlinkSync(join(root, e.path)) : undefined,
      });
    }
  });

  test("statx records and Entry records agree, so both give one stamp", async () => {
    tree(["a/b/c", "a/d", "e -> a/b", "f", "g/", "é/ü"]);
    const records = await walkTreeRecords(root, {});
    expect(fromEntries(records.entries()).stamp()).toBe(records.stamp());
    // Filtered walks emit filtered-out ancestors late, from their Entry: still the same stamp.
    const filtered = await walkTreeRecords(root, { include: ["a/b/c"] });
    expect(filtered.entries().map((e) => e.path)).toEqual(["a", "a/b", "a/b/c"]);
    expect(fromEntries(filtered.entries()).stamp()).toBe(filtered.stamp());
  });

  test("the unfiltered walk (walk-all.ts) and the filtered one (walk.ts) give the same records", async () => {
    // U+FF21 before U+1F600 byte-wise (EF BC A1 < F0 9F 98 80), after it as UTF-16 (FF21 > D83D).
    tree(["a/b/c", "a/d", "e -> a/b", "f", "g/", "é/ü", "z/ÿ", "z/y", "h -> " + "é".repeat(200), "s/\u{1F600}", "s/\uFF21", "s/b"]);
    const all = await walkTreeRecords(root, {});
    // An exclude that matches nothing: the general walker, fed by statx too.
    const general = await walkTreeRecords(root, { exclude: ["no-such-name"] });
    expect(all.entries()).toEqual(general.entries());
    expect(all.stamp()).toBe(general.stamp());
    expect(all.entries().map((e) => e.path)).toEqual(["a", "a/b", "a/b/c", "a/d", "e", "f", "g", "h", "s", "s/b", "s/\uFF21", "s/\u{1F600}", "z", "z/y", "z/ÿ", "é", "é/ü"]);
  });

  test("the unfiltered walk refuses a root that is not a directory, can be canceled and closes what it opened", async () => {
    tree(["a/b/c/d", "a/b/e", "f/g", "h"]);
    const fds = () => readdirSync("/proc/self/fd").length;
    const before = fds();
    expect((await walkTreeRecords(root, {})).length).toBe(8);
    expect(fds()).toBe(before);
    for (const bad of [join(root, "h"), join(root, "missing")]) {
      const err = await walkTreeRecords(bad, {}).catch((e: unknown) => e);
      expect((err as BuildkitError).code).toBe("NotFound");
    }
    const canceled = await walkTreeRecords(root, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect((canceled as BuildkitError).code).toBe("Canceled");
    expect(fds()).toBe(before);
  });

  test("records over several chunks: the same entries and stamp as one buffer would give", async () => {
    // ~70 bytes a record: 3,000 entries and long link targets fill the first chunks.
    for (let d = 0; d < 30; d++) {
      mkdirSync(join(root, `d${d}`));
      for (let f = 0; f < 100; f++) writeFileSync(join(root, `d${d}`, `f${f}`), "");
      symlinkSync("t".repeat(4000), join(root, `d${d}`, "link"));
    }
    const records = await walkTreeRecords(root, {});
    const each = await walkEach();
    expect(records.length).toBe(30 * 102);
    expect(records.entries()).toEqual(each);
    expect(fromEntries(each).stamp()).toBe(records.stamp());
    // Raw records (what tree-records.ts keeps) join the chunks: the same bytes, ends and entries back.
    const raw = records.raw();
    const one = fromEntries(each).raw();
    expect(Buffer.from(raw.bytes).equals(Buffer.from(one.bytes))).toBe(true);
    expect(raw.ends).toEqual(one.ends);
    expect(raw.ends.at(-1)).toBe(raw.bytes.length);
    const back = WalkRecords.fromRaw(raw);
    expect(back.stamp()).toBe(records.stamp());
    expect(back.entries().map((e) => e.path)).toEqual(each.map((e) => e.path));
  });

  test("times before 1970 go through both feeds alike", () => {
    const entry: Entry = { path: "old", type: "file", mode: 0o100644, uid: 1, gid: 2, size: 3, mtimeNs: -1_500_000_000n, ctimeNs: -1n, ino: 2n ** 40n + 5n, dev: 2049n, nlink: 1, blocks: 8 };
    expect(fromEntries([entry]).entries()).toEqual([{ ...entry, linkTarget: undefined }]);
  });

  test("the stamp is equal for an unchanged tree, different after a touch, a move or a new link target", async () => {
    tree(["a/x", "b", "l -> b"]);
    const stamp = async () => (await walkTreeRecords(root, {})).stamp();
    const first = await stamp();
    expect(await stamp()).toBe(first);
    utimesSync(join(root, "b"), 1000, 1000);
    const touched = await stamp();
    expect(touched).not.toBe(first);
    renameSync(join(root, "a/x"), join(root, "ax"));
    const moved = await stamp();
    expect(moved).not.toBe(touched);
    rmSync(join(root, "l"));
    symlinkSync("a", join(root, "l"));
    expect(await stamp()).not.toBe(moved);
  });

  test("a file moved out of a directory to just after it changes the stamp through its depth", async () => {
    tree(["d/x"]);
    const entries = (await walkTreeRecords(root, {})).entries();
    // Same names, same order, the same stat facts: only the depth differs.
    const flat = entries.map((e) => (e.path === "d/x" ? { ...e, path: "x" } : e));
    expect(fromEntries(flat).stamp()).not.toBe(fromEntries(entries).stamp());
  });
});
