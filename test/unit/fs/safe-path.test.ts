import { afterEach, describe, expect, test } from "bun:test";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { cleanAbs, isInside, resolveInRoot, rootRelative } from "../../../src/core/fs/safe-path.ts";
import { cleanup, expectError, tempDir, tree } from "./fixtures.ts";

afterEach(cleanup);

describe("resolveInRoot", () => {
  test("plain paths, relative or absolute, resolve under the root", async () => {
    const root = tempDir();
    tree(root, { "a/b/": "" });
    expect(await resolveInRoot(root, "/a/b")).toBe(join(root, "a/b"));
    expect(await resolveInRoot(root, "a/b/")).toBe(join(root, "a/b"));
    expect(await resolveInRoot(root, "/")).toBe(root);
    expect(await resolveInRoot(root, "")).toBe(root);
    expect(await resolveInRoot(`${root}/`, "./a/./b")).toBe(join(root, "a/b"));
  });

  test("non-existent trailing components are kept", async () => {
    const root = tempDir();
    tree(root, { "a/": "" });
    expect(await resolveInRoot(root, "/a/new/file")).toBe(join(root, "a/new/file"));
  });

  test(".. is clamped at the root", async () => {
    const root = tempDir();
    expect(await resolveInRoot(root, "/../../etc/passwd")).toBe(join(root, "etc/passwd"));
    expect(await resolveInRoot(root, "../../../")).toBe(root);
    expect(await resolveInRoot(root, "/a/../../b")).toBe(join(root, "b"));
  });

  test("an absolute symlink is taken relative to the root", async () => {
    const root = tempDir();
    tree(root, { "etc/": "", "link": "->/etc" });
    expect(await resolveInRoot(root, "/link/passwd")).toBe(join(root, "etc/passwd"));
    expect(await resolveInRoot(root, "/link")).toBe(join(root, "etc"));
  });

  test("a relative symlink with .. cannot climb out", async () => {
    const root = tempDir();
    tree(root, { "a/up": "->../../../../tmp", "a/host": "->/../../tmp/x" });
    expect(await resolveInRoot(root, "/a/up/f")).toBe(join(root, "tmp/f"));
    expect(await resolveInRoot(root, "/a/host")).toBe(join(root, "tmp/x"));
  });

  test("a symlink to an absolute host path stays inside", async () => {
    const root = tempDir();
    const outside = tempDir("outside");
    symlinkSync(outside, join(root, "out"));
    expect(await resolveInRoot(root, "/out/f")).toBe(join(root, outside, "f"));
  });

  test("chains of links resolve step by step", async () => {
    const root = tempDir();
    tree(root, { "real/": "", "l1": "->l2", "l2": "->/l3", "l3": "->real", "d/rel": "->../l1" });
    expect(await resolveInRoot(root, "/l1/x")).toBe(join(root, "real/x"));
    expect(await resolveInRoot(root, "/d/rel/x")).toBe(join(root, "real/x"));
  });

  test("followFinal: false keeps a final symlink but follows parents", async () => {
    const root = tempDir();
    tree(root, { "real/": "", "dir": "->real", "real/link": "->/nowhere" });
    expect(await resolveInRoot(root, "/dir/link", { followFinal: false })).toBe(join(root, "real/link"));
    expect(await resolveInRoot(root, "/dir/link")).toBe(join(root, "nowhere"));
  });

  test("a symlink loop is an error", async () => {
    const root = tempDir();
    tree(root, { "a": "->b", "b": "->a", "self": "->self/x" });
    await expectError(resolveInRoot(root, "/a"), "too many levels of symbolic links", "FailedPrecondition");
    await expectError(resolveInRoot(root, "/self"), "too many levels of symbolic links");
  });

  test("a file used as a directory resolves lexically below it", async () => {
    const root = tempDir();
    tree(root, { "file": "x" });
    expect(await resolveInRoot(root, "/file/sub")).toBe(join(root, "file/sub"));
  });
});

describe("path helpers", () => {
  test("cleanAbs", () => {
    expect(cleanAbs("a/../../b/")).toBe("/b");
    expect(cleanAbs("")).toBe("/");
    expect(cleanAbs("//x//y/")).toBe("/x/y");
  });

  test("rootRelative and isInside", () => {
    expect(rootRelative("/r", "/r/a/b")).toBe("/a/b");
    expect(rootRelative("/r/", "/r")).toBe("/");
    expect(isInside("/r", "/r/a")).toBe(true);
    expect(isInside("/r", "/r2/a")).toBe(false);
    expect(isInside("/r", "/r")).toBe(true);
  });
});
