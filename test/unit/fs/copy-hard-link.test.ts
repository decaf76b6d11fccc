// Copies from an immutable snapshot that keep metadata link files instead of copying them; any
// override (mode, owner, timestamp) or filter copies, and a linked file's metadata is never touched.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, lstatSync, statSync } from "node:fs";
import { join } from "node:path";
import { diskUsage } from "../../../src/core/fs/disk-usage.ts";
import { applyFileAction } from "../../../src/core/fs/file-actions.ts";
import type { pb } from "../../../src/core/pb/index.ts";
import { cleanup, copyAction, copyDirs, read } from "./fixtures.ts";

afterEach(cleanup);

const ino = (root: string, path: string) => lstatSync(join(root, path)).ino;

async function copyLinkable(o: pb.FileActionCopy.$Properties = {}, owner?: pb.ChownOpt.$Properties) {
  const d = copyDirs({ "src/a": "1", "src/sub/b": "2", "src/l": "->a" });
  chmodSync(join(d.secondary, "src/a"), 0o640);
  const action = copyAction("/src", "/out", o);
  if (owner && action.copy) action.copy.owner = owner;
  await applyFileAction(action, { ...d, linkable: true });
  return d;
}

describe("copy: hard links from a linkable source", () => {
  test("a copy keeping metadata links files, makes its own directories and symlinks", async () => {
    const d = await copyLinkable();
    expect(ino(d.base, "out/a")).toBe(ino(d.secondary, "src/a"));
    expect(ino(d.base, "out/sub/b")).toBe(ino(d.secondary, "src/sub/b"));
    expect(ino(d.base, "out/sub")).not.toBe(ino(d.secondary, "src/sub"));
    expect(ino(d.base, "out/l")).not.toBe(ino(d.secondary, "src/l"));
    expect(statSync(join(d.secondary, "src/a")).mode & 0o7777).toBe(0o640);
    expect(read(d.base, "out/sub/b")).toBe("2");
  });

  test("a mode, a timestamp, an owner or a filter makes it copy", async () => {
    const variants: [pb.FileActionCopy.$Properties, pb.ChownOpt.$Properties?][] = [
      [{ mode: 0o600 }],
      [{ modeStr: "u+x" }],
      [{ timestamp: 1_700_000_000_000_000_000 }],
      [{ include_patterns: ["a"] }],
      [{ exclude_patterns: ["x"] }],
      [{}, { user: { byID: process.getuid?.() ?? 0 } }],
    ];
    for (const [o, owner] of variants) {
      const d = await copyLinkable(o, owner);
      expect(ino(d.base, "out/a")).not.toBe(ino(d.secondary, "src/a"));
      expect(statSync(join(d.secondary, "src/a")).mode & 0o7777).toBe(0o640);
    }
  });

  test("without linkable it copies", async () => {
    const d = copyDirs({ "f": "x" });
    await applyFileAction(copyAction("/f", "/g"), d);
    expect(ino(d.base, "g")).not.toBe(ino(d.secondary, "f"));
  });
});

describe("copy: allocated bytes counted while copying", () => {
  /** What a disk-usage walk finds under root, root itself aside. */
  const walked = async (root: string) => (await diskUsage(root)).size - lstatSync(root).blocks * 512;

  test("equal a walk of an empty base after the copy, linked, copied, into made directories or not", async () => {
    const big = "z".repeat(300_000);
    const cases: [string, string, pb.FileActionCopy.$Properties, boolean][] = [
      ["/", "/", { dirCopyContents: true }, true],
      ["/", "/", { dirCopyContents: true }, false],
      ["/src", "/deep/er/out", { createDestPath: true }, true],
      ["/src", "/app/", { createDestPath: true, dirCopyContents: true }, false],
      ["/src/big", "/x/y/", { createDestPath: true }, false],
      ["/src/*", "/w/", { createDestPath: true, allowWildcard: true }, true],
    ];
    for (const [src, dest, o, linkable] of cases) {
      const d = copyDirs({ "src/a": "1", "src/sub/b": "2", "src/l": "->a", "src/big": big, "src/sub/deeper/c": big });
      let counted: number | undefined;
      await applyFileAction(copyAction(src, dest, o), { ...d, linkable }, { onAllocated: (n) => (counted = n) });
      expect([src, dest, counted]).toEqual([src, dest, await walked(d.base)]);
    }
  });

  test("not reported for actions other than copy", async () => {
    const d = copyDirs({});
    let called = false;
    await applyFileAction({ mkdir: { path: "/m", mode: 0o755, makeParents: true, timestamp: -1 } }, d, { onAllocated: () => (called = true) });
    expect(called).toBe(false);
  });
});
