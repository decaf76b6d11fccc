import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, linkSync, lstatSync, readlinkSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { applyFileAction } from "../../../src/core/fs/file-actions.ts";
import { cleanup, copyAction, exists, expectError, modeOf, read, copyDirs as setup, runCopy as run, tempDir } from "./fixtures.ts";

afterEach(cleanup);

const TS = 1_700_000_000_987_654_321;

describe("copy: where things land", () => {
  test("a file to a new path becomes that path", async () => {
    const d = setup({ "f.txt": "data" });
    await run(d, "/f.txt", "/out.txt");
    expect(read(d.base, "out.txt")).toBe("data");
  });

  test("a file to an existing directory goes inside it", async () => {
    const d = setup({ "f.txt": "data" }, { "dir/": "" });
    await run(d, "/f.txt", "/dir");
    expect(read(d.base, "dir/f.txt")).toBe("data");
  });

  test("a trailing slash on dest makes it a directory", async () => {
    const d = setup({ "f.txt": "data" });
    await run(d, "/f.txt", "/dir/");
    await run(d, "/f.txt", "/new/dir/", { createDestPath: true });
    expect(read(d.base, "dir/f.txt")).toBe("data");
    expect(read(d.base, "new/dir/f.txt")).toBe("data");
    expect(modeOf(d.base, "new")).toBe(0o755);
  });

  test("without createDestPath a trailing-slash dest still needs its parent (as BuildKit)", async () => {
    const d = setup({ "f.txt": "data" });
    await expectError(run(d, "/f.txt", "/new/dir/"), "copy /f.txt: destination directory /new does not exist");
  });

  test("an existing file at dest is replaced", async () => {
    const d = setup({ "f.txt": "new" }, { "out.txt": "old" });
    await run(d, "/f.txt", "/out.txt");
    expect(read(d.base, "out.txt")).toBe("new");
  });

  test("a directory without dirCopyContents: new dest becomes the dir, existing dest gets it inside", async () => {
    const d = setup({ "src/a": "1", "src/sub/b": "2" }, { "existing/": "" });
    await run(d, "/src", "/fresh");
    await run(d, "/src", "/existing");
    expect(read(d.base, "fresh/a")).toBe("1");
    expect(read(d.base, "fresh/sub/b")).toBe("2");
    expect(read(d.base, "existing/src/sub/b")).toBe("2");
  });

  test("a directory with dirCopyContents merges its contents into dest", async () => {
    const d = setup({ "src/a": "1", "src/sub/b": "2" }, { "existing/keep": "k", "existing/a": "old" });
    await run(d, "/src/", "/existing", { dirCopyContents: true });
    await run(d, "/src", "/fresh/deeper", { dirCopyContents: true, createDestPath: true });
    expect(["existing/keep", "existing/a", "existing/sub/b"].map((p) => read(d.base, p))).toEqual(["k", "1", "2"]);
    expect(exists(d.base, "existing/src")).toBe(false);
    expect(read(d.base, "fresh/deeper/sub/b")).toBe("2");
  });

  test("copying the source root copies everything", async () => {
    const d = setup({ a: "1", "b/c": "2" });
    await run(d, "/", "/out", { dirCopyContents: true });
    expect([read(d.base, "out/a"), read(d.base, "out/b/c")]).toEqual(["1", "2"]);
  });

  test("without createDestPath the parent must exist", async () => {
    const d = setup({ f: "x" });
    await expectError(run(d, "/f", "/a/b/f"), "copy /f: destination directory /a/b does not exist", "NotFound");
    await run(d, "/f", "/a/b/f", { createDestPath: true });
    expect(read(d.base, "a/b/f")).toBe("x");
  });

  test("a missing source is an error", async () => {
    const d = setup({});
    await expectError(run(d, "/nope", "/x"), "copy /nope: no such file or directory", "NotFound");
  });

  test("copy without a source directory is an error", async () => {
    const base = tempDir();
    await expectError(applyFileAction(copyAction("/a", "/b"), { base }), "copy /a: no source directory", "InvalidArgument");
  });
});

describe("copy: wildcards", () => {
  test("matches are copied into the destination directory", async () => {
    const d = setup({ "a.txt": "a", "b.txt": "b", "c.md": "c", "dir.txt/x": "x" });
    await run(d, "/*.txt", "/out/", { allowWildcard: true });
    expect([read(d.base, "out/a.txt"), read(d.base, "out/b.txt"), read(d.base, "out/dir.txt/x")]).toEqual(["a", "b", "x"]);
    expect(exists(d.base, "out/c.md")).toBe(false);
  });

  test("wildcards in a middle component", async () => {
    const d = setup({ "p1/f": "1", "p2/f": "2", "q/f": "3" });
    await run(d, "/p?/f", "/out/", { allowWildcard: true, dirCopyContents: true });
    expect(read(d.base, "out/f")).toBe("2");
  });

  test("no match is an error unless allowEmptyWildcard", async () => {
    const d = setup({ "a.txt": "" });
    await expectError(run(d, "/*.go", "/out/", { allowWildcard: true }), "copy /*.go: no files matched the wildcard", "NotFound");
    await run(d, "/*.go", "/out/", { allowWildcard: true, allowEmptyWildcard: true });
    expect(exists(d.base, "out")).toBe(false);
  });

  test("without allowWildcard the characters are literal", async () => {
    const d = setup({ "*.txt": "star" });
    await run(d, "/*.txt", "/lit");
    expect(read(d.base, "lit")).toBe("star");
  });
});

describe("copy: symlinks, metadata", () => {
  test("followSymlink copies the target; otherwise the link itself", async () => {
    const d = setup({ "real.txt": "content", link: "->real.txt" });
    await run(d, "/link", "/followed", { followSymlink: true });
    await run(d, "/link", "/kept");
    expect(lstatSync(join(d.base, "followed")).isFile()).toBe(true);
    expect(read(d.base, "followed")).toBe("content");
    expect(readlinkSync(join(d.base, "kept"))).toBe("real.txt");
  });

  test("symlinks inside a tree are copied as symlinks", async () => {
    const d = setup({ "t/file": "x", "t/abs": "->/etc/passwd", "t/rel": "->file" });
    await run(d, "/t", "/out");
    expect(readlinkSync(join(d.base, "out/abs"))).toBe("/etc/passwd");
    expect(readlinkSync(join(d.base, "out/rel"))).toBe("file");
  });

  test("mode and nanosecond mtimes are preserved", async () => {
    const d = setup({ "t/f": "x", "t/d/": "" });
    chmodSync(join(d.secondary, "t/f"), 0o4751);
    chmodSync(join(d.secondary, "t/d"), 0o700);
    utimesSync(join(d.secondary, "t/f"), 1000, 2000.5);
    await run(d, "/t", "/out");
    expect([modeOf(d.base, "out/f"), modeOf(d.base, "out/d")]).toEqual([0o4751, 0o700]);
    expect(lstatSync(join(d.base, "out/f"), { bigint: true }).mtimeNs).toBe(lstatSync(join(d.secondary, "t/f"), { bigint: true }).mtimeNs);
    expect(lstatSync(join(d.base, "out/d"), { bigint: true }).mtimeNs).toBe(lstatSync(join(d.secondary, "t/d"), { bigint: true }).mtimeNs);
  });

  test("hard links within one copy stay hard links", async () => {
    const d = setup({ "t/a": "same" });
    linkSync(join(d.secondary, "t/a"), join(d.secondary, "t/b"));
    await run(d, "/t", "/out");
    expect(statSync(join(d.base, "out/a")).ino).toBe(statSync(join(d.base, "out/b")).ino);
  });

  test("FIFOs are recreated", async () => {
    const d = setup({ "t/": "" });
    Bun.spawnSync(["mkfifo", join(d.secondary, "t/pipe")]);
    await run(d, "/t", "/out");
    expect(lstatSync(join(d.base, "out/pipe")).isFIFO()).toBe(true);
  });

  test("mode overrides every copied entry; -1 keeps it", async () => {
    const d = setup({ "t/f": "x", "t/d/g": "y" });
    await run(d, "/t", "/out", { mode: 0o700 });
    expect([modeOf(d.base, "out"), modeOf(d.base, "out/f"), modeOf(d.base, "out/d/g")]).toEqual([0o700, 0o700, 0o700]);
  });

  test("a numeric mode sets the permission bits only: the source's setuid/setgid/sticky stay, the mode's own are dropped (fsutil)", async () => {
    const d = setup({ "s/u": "u", "s/plain": "p" });
    chmodSync(join(d.secondary, "s/u"), 0o4755);
    await run(d, "/s/u", "/u", { mode: 0o644 });
    await run(d, "/s/plain", "/plain", { mode: 0o4751 });
    expect([modeOf(d.base, "u"), modeOf(d.base, "plain")]).toEqual([0o4644, 0o751]);
  });

  test("modeStr applies chmod syntax per entry", async () => {
    const d = setup({ "t/f": "x", "t/d/": "" });
    chmodSync(join(d.secondary, "t/f"), 0o644);
    chmodSync(join(d.secondary, "t/d"), 0o755);
    await run(d, "/t", "/out", { modeStr: "u+x,g-r,o=" });
    expect([modeOf(d.base, "out/f"), modeOf(d.base, "out/d")]).toEqual([0o700, 0o710]);
    await expectError(run(d, "/t/f", "/bad", { modeStr: "u+q" }), 'copy /t/f: invalid mode string "u+q": invalid syntax', "InvalidArgument");
  });

  test("timestamp overrides the times of every copied entry", async () => {
    const d = setup({ "t/f": "x", "t/l": "->f", "t/d/g": "y" });
    await run(d, "/t", "/p/out", { timestamp: TS, createDestPath: true });
    for (const p of ["p/out", "p/out/f", "p/out/l", "p/out/d", "p/out/d/g"]) {
      expect([p, lstatSync(join(d.base, p), { bigint: true }).mtimeNs]).toEqual([p, BigInt(TS)]);
    }
  });
});

describe("copy: replacing existing paths", () => {
  test("a file onto a directory inside a copied tree is an error", async () => {
    const d = setup({ "t/x": "file" }, { "out/x/": "" });
    await expectError(run(d, "/t", "/out", { dirCopyContents: true }), "copy /t: cannot replace to directory /out/x with file");
  });

  test("a directory onto a file is an error", async () => {
    const d = setup({ "t/x/y": "" }, { "out/x": "file" });
    await expectError(run(d, "/t", "/out", { dirCopyContents: true }), "copy /t: cannot copy to non-directory: /out/x");
  });

  test("alwaysReplaceExistingDestPaths replaces across types", async () => {
    const d = setup({ "t/x/y": "deep", "t/z": "file" }, { "out/x": "was a file", "out/z/inner": "was a dir" });
    await run(d, "/t", "/out", { dirCopyContents: true, alwaysReplaceExistingDestPaths: true });
    expect(read(d.base, "out/x/y")).toBe("deep");
    expect(read(d.base, "out/z")).toBe("file");
  });

  test("a symlink at the target is replaced, not followed", async () => {
    const outside = tempDir("outside");
    writeFileSync(join(outside, "victim"), "safe");
    const d = setup({ "t/f": "new" }, { "out/f": `->${join(outside, "victim")}` });
    await run(d, "/t", "/out", { dirCopyContents: true });
    expect(read(d.base, "out/f")).toBe("new");
    expect(read(outside, "victim")).toBe("safe");
  });
});

describe("copy: include and exclude patterns", () => {
  const src = { "app/main.go": "m", "app/main_test.go": "t", "app/vendor/lib.go": "l", "app/docs/README.md": "r", "app/docs/x.md": "x", "app/bin/tool": "b" };

  test("exclude with ** and negation", async () => {
    const d = setup(src);
    await run(d, "/app", "/out", { dirCopyContents: true, exclude_patterns: ["**/*_test.go", "docs", "!docs/README.md", "bin"] });
    const present = ["main.go", "main_test.go", "vendor/lib.go", "docs/README.md", "docs/x.md", "bin"].map((p) => exists(d.base, `out/${p}`));
    expect(present).toEqual([true, false, true, true, false, false]);
  });

  test("include keeps only matches and creates just their parents", async () => {
    const d = setup(src);
    await run(d, "/app", "/out", { dirCopyContents: true, include_patterns: ["**/*.md", "main.go"] });
    const present = ["main.go", "main_test.go", "vendor", "docs/README.md", "docs/x.md", "bin"].map((p) => exists(d.base, `out/${p}`));
    expect(present).toEqual([true, false, false, true, true, false]);
  });

  test("include and exclude together: exclude wins", async () => {
    const d = setup(src);
    await run(d, "/app", "/out", { dirCopyContents: true, include_patterns: ["docs"], exclude_patterns: ["docs/x.md"] });
    expect([exists(d.base, "out/docs/README.md"), exists(d.base, "out/docs/x.md"), exists(d.base, "out/main.go")]).toEqual([true, false, false]);
  });

  test("patterns are relative to the source, not the root", async () => {
    const d = setup(src);
    await run(d, "/app/docs", "/out", { dirCopyContents: true, exclude_patterns: ["x.md"] });
    expect([exists(d.base, "out/README.md"), exists(d.base, "out/x.md")]).toEqual([true, false]);
  });

  test("a bad pattern is an error", async () => {
    const d = setup(src);
    await expectError(run(d, "/app", "/out", { exclude_patterns: ["[-]"] }), 'copy /app: invalid pattern "[-]": syntax error in pattern', "InvalidArgument");
  });
});
