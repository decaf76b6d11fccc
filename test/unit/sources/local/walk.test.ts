import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import * as fs from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildkitError } from "../../../../src/core/errors.ts";
import { followLinks, walkTree } from "../../../../src/core/sources/local/index.ts";
import type { Entry, WalkOptions } from "../../../../src/core/sources/local/index.ts";
import { makeSpecTree } from "../../../fixtures/spec-tree.ts";

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "buildkit-ts-walk-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Creates files (content = path), directories (trailing "/") and symlinks ("name -> target"). */
const tree = (specs: string[]): void => makeSpecTree(root, specs);

async function walk(opts: WalkOptions = {}, at = root): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const entry of walkTree(at, opts)) out.push(entry);
  return out;
}

const paths = async (opts: WalkOptions = {}) => (await walk(opts)).map((e) => e.path);

describe("walkTree", () => {
  test("depth first, siblings byte-wise, a directory before its contents", async () => {
    tree(["b", "a.txt", "a/z", "a/b/c", "B", "_", "a-", "é", "a/b.txt"]);
    expect(await paths()).toEqual(["B", "_", "a", "a/b", "a/b/c", "a/b.txt", "a/z", "a-", "a.txt", "b", "é"]);
  });

  test("entries carry lstat facts; symlinks are not followed", async () => {
    tree(["dir/", "file", "link -> file", "dangling -> /nowhere/at/all", "out -> ../../etc"]);
    const byPath = new Map((await walk()).map((e) => [e.path, e]));
    const file = byPath.get("file");
    expect(file?.type).toBe("file");
    expect(file?.size).toBe(4);
    expect((file?.mode ?? 0) & 0o170000).toBe(0o100000);
    expect(typeof file?.mtimeNs).toBe("bigint");
    expect(typeof file?.ino).toBe("bigint");
    expect(file?.nlink).toBe(1);
    expect(byPath.get("dir")?.type).toBe("dir");
    expect(byPath.get("link")).toMatchObject({ type: "symlink", linkTarget: "file" });
    expect(byPath.get("dangling")).toMatchObject({ type: "symlink", linkTarget: "/nowhere/at/all" });
    expect(byPath.get("out")).toMatchObject({ type: "symlink", linkTarget: "../../etc" });
  });

  test("exclude patterns, with ** and directory patterns", async () => {
    tree(["src/a.go", "src/a_test.go", "src/sub/b.go", "node_modules/x/y.js", "build/", "README.md", "docs/x.md"]);
    expect(await paths({ exclude: ["node_modules", "**/*_test.go", "*.md"] })).toEqual([
      "build", "docs", "docs/x.md", "src", "src/a.go", "src/sub", "src/sub/b.go",
    ]);
    expect(await paths({ exclude: ["/src/", "docs/**"] })).toEqual([
      "README.md", "build", "docs", "node_modules", "node_modules/x", "node_modules/x/y.js",
    ]);
  });

  test("negated excludes bring back paths inside excluded directories", async () => {
    tree(["build/out/a.bin", "build/out/keep.txt", "build/log", "src/main.c"]);
    expect(await paths({ exclude: ["build", "!build/out/keep.txt"] })).toEqual([
      "build", "build/out", "build/out/keep.txt", "src", "src/main.c",
    ]);
    expect(await paths({ exclude: ["*", "!**/*.c"] })).toEqual(["src", "src/main.c"]);
  });

  test("include patterns: matched paths, their subtrees, and the directories leading to them", async () => {
    tree(["a/b/c.txt", "a/b/d.bin", "a/e.txt", "x/y.txt", "Dockerfile", "sub/Dockerfile"]);
    expect(await paths({ include: ["Dockerfile"] })).toEqual(["Dockerfile"]);
    expect(await paths({ include: ["a/b"] })).toEqual(["a", "a/b", "a/b/c.txt", "a/b/d.bin"]);
    expect(await paths({ include: ["**/*.txt"] })).toEqual(["a", "a/b", "a/b/c.txt", "a/e.txt", "x", "x/y.txt"]);
    expect(await paths({ include: ["a", "!a/b"] })).toEqual(["a", "a/e.txt"]);
    expect(await paths({ include: ["**/Dockerfile"], exclude: ["sub"] })).toEqual(["Dockerfile"]);
    expect(await paths({ include: ["a/**/*.txt"], exclude: ["a/e.txt"] })).toEqual(["a", "a/b", "a/b/c.txt"]);
  });

  test("follow paths add a link and its target to the include patterns", async () => {
    tree(["real/Dockerfile", "Dockerfile -> real/Dockerfile", "other", "abs -> /real", "loop1 -> loop2", "loop2 -> loop1"]);
    expect(await paths({ include: ["other"], followPaths: ["Dockerfile"] })).toEqual([
      "Dockerfile", "other", "real", "real/Dockerfile",
    ]);
    expect(followLinks(root, ["abs/Dockerfile"])).toEqual(["abs", "real/Dockerfile"]);
    expect(followLinks(root, ["loop1"])).toEqual(["loop1", "loop2"]);
    expect(followLinks(root, ["missing/x"])).toEqual(["missing/x"]);
    expect(followLinks(root, ["../../Dockerfile"])).toEqual(["Dockerfile", "real/Dockerfile"]);
    expect(await paths({ followPaths: ["."] })).toHaveLength(7);
  });

  test("a subtree nothing inside which can be included is not read", async () => {
    tree(["keep/a", "skip/a/b", "skip/c"]);
    const readdir = spyOn(fs, "readdirSync");
    try {
      expect(await paths({ exclude: ["skip"] })).toEqual(["keep", "keep/a"]);
      expect(await paths({ include: ["keep/**"] })).toEqual(["keep", "keep/a"]);
      expect(await paths({ exclude: ["skip", "!keep"] })).toEqual(["keep", "keep/a"]);
      const read = readdir.mock.calls.map(([dir]) => String(dir));
      expect(read.filter((dir) => dir.includes("/skip"))).toEqual([]);
      expect(await paths({ exclude: ["skip", "!skip/c"] })).toEqual(["keep", "keep/a", "skip", "skip/c"]);
    } finally {
      readdir.mockRestore();
    }
  });

  test("refuses a root that is not a directory; can be canceled", async () => {
    tree(["file"]);
    await expect(walk({}, join(root, "file"))).rejects.toThrow(BuildkitError);
    await expect(walk({}, join(root, "missing"))).rejects.toThrow(BuildkitError);
    const controller = new AbortController();
    controller.abort();
    tree(["d/x"]);
    const err = await walk({ signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildkitError);
    expect((err as BuildkitError).code).toBe("Canceled");
  });

  test("directories held open for the walk are closed, also when it is abandoned or fails", async () => {
    tree(["a/b/c/d", "a/b/e", "f/g", "h"]);
    const fds = () => fs.readdirSync("/proc/self/fd").length;
    const before = fds();
    expect((await walk()).length).toBe(8);
    expect(fds()).toBe(before);
    for await (const entry of walkTree(root)) if (entry.path === "a/b/c") break;
    expect(fds()).toBe(before);
    const walking = walkTree(root, { signal: AbortSignal.abort() });
    await walking.next();
    await walking.return(undefined);
    expect(fds()).toBe(before);
  });

  test("bad patterns are InvalidArgument", async () => {
    const err = await walk({ exclude: ["[oops"] }).catch((e: unknown) => e);
    expect((err as BuildkitError).code).toBe("InvalidArgument");
  });
});
