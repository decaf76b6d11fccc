import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync, chownSync, linkSync, lstatSync, lutimesSync, mkdirSync, mkdtempSync, readFileSync, readdirSync,
  readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BuildkitError } from "../../../../src/core/errors.ts";
import { diskUsage } from "../../../../src/core/fs/disk-usage.ts";
import { copyTree, walkTree } from "../../../../src/core/sources/local/index.ts";
import { reusablePaths } from "../../../../src/core/sources/local/copy-records.ts";
import { walkTreeRecords } from "../../../../src/core/sources/local/walk.ts";

let base: string;
let root: string;
let dest: string;
const asRoot = process.getuid?.() === 0;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "buildkit-ts-copy-"));
  root = join(base, "src");
  dest = join(base, "dest");
  mkdirSync(root);
  mkdirSync(dest);
  writeFileSync(join(base, "secret"), "outside the root");
});
afterEach(() => {
  chmodSync(join(root), 0o755);
  rmSync(base, { recursive: true, force: true });
});

function file(path: string, content: string, mode = 0o644): void {
  const abs = join(root, path);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, content);
  chmodSync(abs, mode);
}

/** path → "type mode [uid:gid] [-> target]" for every entry under `at`. */
async function describeTree(at: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of walkTree(at)) {
    const owner = asRoot ? ` ${e.uid}:${e.gid}` : "";
    out.set(e.path, `${e.type} ${(e.mode & 0o7777).toString(8)}${owner}${e.linkTarget ? ` -> ${e.linkTarget}` : ""}`);
  }
  return out;
}

/** path → mtime in ns. */
async function mtimes(at: string): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for await (const e of walkTree(at)) out.set(e.path, e.mtimeNs);
  return out;
}

describe("copyTree", () => {
  test("copies content, modes, mtimes and symlinks", async () => {
    file("bin/tool", "#!/bin/sh\n", 0o4755);
    file("etc/conf", "x=1\n", 0o600);
    file("big", "z".repeat(3 << 20));
    file("ro/inside", "read-only dir", 0o444);
    chmodSync(join(root, "ro"), 0o555);
    symlinkSync("../etc/conf", join(root, "bin/conf"));
    utimesSync(join(root, "etc/conf"), 1_500_000_000.123456, 1_500_000_000.123456);
    utimesSync(join(root, "etc"), 1_400_000_000, 1_400_000_000);
    lutimesSync(join(root, "bin/conf"), 1_300_000_000, 1_300_000_000);
    if (asRoot) chownSync(join(root, "etc/conf"), 1234, 5678);

    const result = await copyTree(root, dest, { name: "ctx" });
    const { records: _, allocated, ...counts } = result;
    expect(counts).toEqual({ files: 4, dirs: 3, symlinks: 1, hardlinks: 0, reused: 0, skipped: 0, bytes: 10 + 4 + (3 << 20) + 13 });
    // Counted while copying, it is what a disk-usage walk finds (dest itself aside).
    expect(allocated).toBe((await diskUsage(dest)).size - lstatSync(dest).blocks * 512);
    expect(await describeTree(dest)).toEqual(await describeTree(root));
    // utimes takes seconds as a double: about 0.1 µs of precision at today's dates.
    const copied = await mtimes(dest);
    for (const [path, ns] of await mtimes(root)) {
      const diff = (copied.get(path) ?? 0n) - ns;
      expect(diff < 1000n && diff > -1000n).toBe(true);
    }
    expect(copied.get("etc")).toBe(1_400_000_000_000_000_000n);
    expect(copied.get("bin/conf")).toBe(1_300_000_000_000_000_000n);
    expect(readFileSync(join(dest, "big"), "utf8")).toBe("z".repeat(3 << 20));
    expect(lstatSync(join(dest, "bin/tool")).mode & 0o7777).toBe(0o4755);
    expect(readlinkSync(join(dest, "bin/conf"))).toBe("../etc/conf");
  });

  test("symlinks pointing outside the root are copied as links, never followed", async () => {
    symlinkSync(join(base, "secret"), join(root, "abs"));
    symlinkSync("../secret", join(root, "rel"));
    symlinkSync("..", join(root, "up"));
    const result = await copyTree(root, dest);
    expect(result.symlinks).toBe(3);
    expect(result.files).toBe(0);
    for (const name of ["abs", "rel", "up"]) expect(lstatSync(join(dest, name)).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dest, "abs"))).toBe(join(base, "secret"));
    expect(readdirSync(dest).sort()).toEqual(["abs", "rel", "up"]);
  });

  test("a file replaced by a symlink after the walk is not followed; modes the umask would strip are kept", async () => {
    file("all", "rwx for all", 0o777);
    file("sub/swapped", "was a file");
    const walked = await walkTreeRecords(root, {});
    rmSync(join(root, "sub/swapped"));
    symlinkSync(join(base, "secret"), join(root, "sub/swapped"));
    const err = await copyTree(root, dest, { walked }).catch((e: unknown) => e);
    expect(String(err)).toContain("ELOOP");
    expect(lstatSync(join(dest, "all")).mode & 0o7777).toBe(0o777);
    expect(readFileSync(join(dest, "all"), "utf8")).toBe("rwx for all");
    const leaked = (() => {
      try {
        return readFileSync(join(dest, "sub/swapped"), "utf8");
      } catch {
        return undefined;
      }
    })();
    expect(leaked).not.toBe("outside the root");
  });

  test.skipIf(!asRoot)("owners are kept under a set-gid destination too", async () => {
    file("mine", "root's");
    file("d/theirs", "1234's");
    chownSync(join(root, "d/theirs"), 1234, 5678);
    chownSync(dest, 0, 4321);
    chmodSync(dest, 0o2755);
    await copyTree(root, dest);
    expect([lstatSync(join(dest, "mine")).uid, lstatSync(join(dest, "mine")).gid]).toEqual([0, 0]);
    expect([lstatSync(join(dest, "d/theirs")).uid, lstatSync(join(dest, "d/theirs")).gid]).toEqual([1234, 5678]);
  });

  test("hard links within the tree stay hard links", async () => {
    file("a", "shared");
    mkdirSync(join(root, "d"));
    linkSync(join(root, "a"), join(root, "d/b"));
    linkSync(join(root, "a"), join(root, "c"));
    linkSync(join(base, "secret"), join(root, "e")); // linked to a file outside: copied on its own
    const result = await copyTree(root, dest);
    expect(result).toMatchObject({ files: 2, hardlinks: 2 });
    const ino = lstatSync(join(dest, "a")).ino;
    expect(lstatSync(join(dest, "c")).ino).toBe(ino);
    expect(lstatSync(join(dest, "d/b")).ino).toBe(ino);
    expect(lstatSync(join(dest, "a")).nlink).toBe(3);
    expect(lstatSync(join(dest, "e")).nlink).toBe(1);
  });

  test("applies the filters", async () => {
    file("keep/a.txt", "a");
    file("keep/b.log", "b");
    file("drop/c.txt", "c");
    const result = await copyTree(root, dest, { exclude: ["drop", "*/*.log"] });
    expect(result).toMatchObject({ files: 1, dirs: 1 });
    expect([...(await describeTree(dest)).keys()]).toEqual(["keep", "keep/a.txt"]);
  });

  test("skips fifos and other special files", async () => {
    const mkfifo = Bun.which("mkfifo");
    if (!mkfifo) return;
    Bun.spawnSync([mkfifo, join(root, "pipe")]);
    file("f", "x");
    const result = await copyTree(root, dest);
    expect(result).toMatchObject({ files: 1, skipped: 1 });
    expect(readdirSync(dest)).toEqual(["f"]);
  });

  test("refuses a root that is missing or not a directory", async () => {
    file("plain", "x");
    for (const bad of [join(root, "plain"), join(root, "missing")]) {
      const err = await copyTree(bad, dest, { name: "ctx" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BuildkitError);
      expect((err as BuildkitError).code).toBe("NotFound");
      expect((err as Error).message).toBe(`local source ctx: ${bad} is not a directory`);
    }
  });

  test("refuses a destination that is not a directory", async () => {
    const err = await copyTree(root, join(base, "nowhere"), { name: "ctx" }).catch((e: unknown) => e);
    expect((err as BuildkitError).code).toBe("FailedPrecondition");
  });

  test("a root that is a symlink to a directory is followed", async () => {
    file("x", "1");
    symlinkSync(root, join(base, "alias"));
    const result = await copyTree(join(base, "alias"), dest);
    expect(result.files).toBe(1);
  });

  test("incremental: unchanged files are linked from the previous copy, changed ones written anew", async () => {
    file("same", "same");
    file("sub/changed", "old");
    file("gone", "x");
    utimesSync(join(root, "same"), 1_500_000_000, 1_500_000_000);
    await Bun.sleep(30); // out of the racy window
    const first = join(base, "first");
    mkdirSync(first);
    const r1 = await copyTree(root, first);
    expect(reusablePaths(r1.records)).toEqual(["gone", "same", "sub/changed"]);
    writeFileSync(join(root, "sub/changed"), "new!");
    rmSync(join(root, "gone"));
    file("added", "a");
    const r2 = await copyTree(root, dest, { previous: { dir: first, records: r1.records } });
    expect(r2).toMatchObject({ reused: 1, files: 2 });
    expect(lstatSync(join(dest, "same")).ino).toBe(lstatSync(join(first, "same")).ino);
    expect(lstatSync(join(dest, "sub/changed")).ino).not.toBe(lstatSync(join(first, "sub/changed")).ino);
    expect(readFileSync(join(dest, "sub/changed"), "utf8")).toBe("new!");
    expect(readFileSync(join(first, "sub/changed"), "utf8")).toBe("old");
    expect(readdirSync(dest).sort()).toEqual(["added", "same", "sub"]);
    expect(await describeTree(dest)).toEqual(await describeTree(root));
  });

  test("incremental, the same entries: only what changed is copied, by index; a racy file is not linked later", async () => {
    for (const name of ["a", "b", "sub/c", "sub/d"]) file(name, name);
    await Bun.sleep(30);
    const first = join(base, "first");
    mkdirSync(first);
    const r1 = await copyTree(root, first);
    expect(reusablePaths(r1.records)).toEqual(["a", "b", "sub/c", "sub/d"]);
    writeFileSync(join(root, "sub/c"), "C!");
    const second = join(base, "second");
    mkdirSync(second);
    // sub/c is racy (just written): copied, and not to be linked by the next copy
    const r2 = await copyTree(root, second, { previous: { dir: first, records: r1.records } });
    expect(r2).toMatchObject({ reused: 3, files: 1 });
    expect(reusablePaths(r2.records)).toEqual(["a", "b", "sub/d"]);
    expect(lstatSync(join(second, "sub/d")).ino).toBe(lstatSync(join(first, "sub/d")).ino);
    expect(readFileSync(join(second, "sub/c"), "utf8")).toBe("C!");
    await Bun.sleep(30);
    const r3 = await copyTree(root, dest, { previous: { dir: second, records: r2.records } });
    expect(r3).toMatchObject({ reused: 3, files: 1 });
    expect(reusablePaths(r3.records)).toEqual(["a", "b", "sub/c", "sub/d"]);
    expect(await describeTree(dest)).toEqual(await describeTree(root));
  });

  test("incremental: a changed mode or owner makes a new file, the previous copy keeps its own", async () => {
    file("f", "data", 0o644);
    await Bun.sleep(30);
    const first = join(base, "first");
    mkdirSync(first);
    const r1 = await copyTree(root, first);
    chmodSync(join(root, "f"), 0o600);
    const r2 = await copyTree(root, dest, { previous: { dir: first, records: r1.records } });
    expect(r2.reused).toBe(0);
    expect(lstatSync(join(first, "f")).mode & 0o7777).toBe(0o644);
    expect(lstatSync(join(dest, "f")).mode & 0o7777).toBe(0o600);
  });
});
