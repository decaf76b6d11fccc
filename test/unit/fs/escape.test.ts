// Escape attempts: every read stays inside `secondary` and every write inside `base`, whatever
// `..`, absolute symlinks, host paths and symlink chains are thrown at the file actions.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { applyFileAction } from "../../../src/core/fs/file-actions.ts";
import { cleanup, copyAction, exists, expectError, mkdirAction, mkfileAction, read, rmAction, symlinkAction, tempDir, tree } from "./fixtures.ts";

afterEach(cleanup);

/** A directory outside every root, with a file that must never change. */
function outsideDir(): string {
  const dir = tempDir("outside");
  writeFileSync(join(dir, "victim"), "untouched");
  return dir;
}

function expectUntouched(outside: string): void {
  expect(readdirSync(outside)).toEqual(["victim"]);
  expect(readFileSync(join(outside, "victim"), "utf8")).toBe("untouched");
}

describe("writes stay inside base", () => {
  test("mkfile through a symlink to /etc lands in the root's /etc", async () => {
    const base = tempDir();
    tree(base, { etcl: "->/etc", "etc/": "" });
    await applyFileAction(mkfileAction("/etcl/buildkit-ts-escape-test", "x"), { base });
    expect(read(base, "etc/buildkit-ts-escape-test")).toBe("x");
    expect(existsSync("/etc/buildkit-ts-escape-test")).toBe(false);
  });

  test("mkfile through a symlink to an absolute host directory stays inside", async () => {
    const base = tempDir();
    const outside = outsideDir();
    tree(base, { out: `->${outside}` });
    await expectError(applyFileAction(mkfileAction("/out/victim", "pwned"), { base }), "mkfile /out/victim: parent directory does not exist");
    expectUntouched(outside);
    tree(base, { [`${outside.slice(1)}/`]: "" });
    await applyFileAction(mkfileAction("/out/victim", "pwned"), { base });
    await applyFileAction(mkfileAction("/out/new", "pwned"), { base });
    expectUntouched(outside);
    expect(read(base, `${outside}/victim`)).toBe("pwned");
  });

  test("a symlink to /../../tmp/x resolves to <root>/tmp/x", async () => {
    const base = tempDir();
    tree(base, { link: "->/../../tmp/buildkit-ts-escape-x", "tmp/": "" });
    await applyFileAction(mkfileAction("/link", "x", { mode: 0o600 }), { base });
    expect(read(base, "tmp/buildkit-ts-escape-x")).toBe("x");
    expect(existsSync("/tmp/buildkit-ts-escape-x")).toBe(false);
  });

  test("a final dangling symlink to a host path is followed inside the root", async () => {
    const base = tempDir();
    const outside = outsideDir();
    tree(base, { [`${outside.slice(1)}/`]: "", dangling: `->${join(outside, "created")}` });
    await applyFileAction(mkfileAction("/dangling", "x"), { base });
    expectUntouched(outside);
    expect(read(base, join(outside, "created"))).toBe("x");
  });

  test(".. in action paths is clamped at the root", async () => {
    const base = tempDir();
    const outside = outsideDir();
    tree(base, { [`${outside.slice(1)}/`]: "" });
    await applyFileAction(mkdirAction("/../../../x", { makeParents: true }), { base });
    await applyFileAction(mkfileAction(`../../..${outside}/victim`, "pwned"), { base });
    await applyFileAction(symlinkAction("/etc/passwd", "../../link"), { base });
    expect([exists(base, "x"), exists(base, "link"), read(base, `${outside}/victim`)]).toEqual([true, true, "pwned"]);
    expectUntouched(outside);
  });

  test("mkdir with parents through chained links to a host path stays inside", async () => {
    const base = tempDir();
    const outside = outsideDir();
    tree(base, { a: "->b", b: "->/c", c: `->${outside}` });
    await applyFileAction(mkdirAction("/a/sub/dir", { makeParents: true }), { base });
    expectUntouched(outside);
    expect(exists(base, `${outside}/sub/dir`)).toBe(true);
  });

  test("a symlink loop is an error, naming the action and path", async () => {
    const base = tempDir();
    tree(base, { loop1: "->loop2", loop2: "->/loop1" });
    await expectError(applyFileAction(mkfileAction("/loop1/f", "x"), { base }), "mkfile /loop1/f: too many levels of symbolic links", "FailedPrecondition");
    await expectError(applyFileAction(mkdirAction("/loop2", { makeParents: true }), { base }), "mkdir /loop2: too many levels of symbolic links");
  });

  test("rm cannot reach outside through .. or a parent symlink", async () => {
    const base = tempDir();
    const outside = outsideDir();
    tree(base, { out: `->${outside}`, rel: "->../../../../.." });
    await applyFileAction(rmAction(`../../..${outside}/victim`, { allowNotFound: true }), { base });
    await applyFileAction(rmAction("/out/victim", { allowNotFound: true }), { base });
    await applyFileAction(rmAction(`/rel${outside}/victim`, { allowNotFound: true }), { base });
    await applyFileAction(rmAction("/out/*", { allowWildcard: true }), { base });
    await applyFileAction(rmAction(".."), { base }).catch(() => {});
    expectUntouched(outside);
    expect(existsSync(base)).toBe(true);
  });

  test("removing a directory unlinks the symlinks inside it without following them", async () => {
    const base = tempDir();
    const outside = outsideDir();
    tree(base, { "d/abs": `->${outside}`, "d/rel": "->../../../..", "d/file": "x" });
    await applyFileAction(rmAction("/d"), { base });
    expect(exists(base, "d")).toBe(false);
    expectUntouched(outside);
  });

  test("copy to a dest through a symlink to a host path stays inside base", async () => {
    const base = tempDir();
    const secondary = tempDir("src");
    const outside = outsideDir();
    tree(secondary, { victim: "pwned", "dir/victim": "pwned" });
    tree(base, { out: `->${outside}` });
    await expectError(applyFileAction(copyAction("/victim", "/out/victim"), { base, secondary }), "copy /victim: destination directory /out does not exist");
    await applyFileAction(copyAction("/victim", "/out/victim", { createDestPath: true }), { base, secondary });
    await applyFileAction(copyAction("/dir", "/out", { dirCopyContents: true }), { base, secondary });
    await applyFileAction(copyAction("/victim", "/../../out/"), { base, secondary });
    expectUntouched(outside);
    expect(read(base, `${outside}/victim`)).toBe("pwned");
  });

  test("copying a tree over a symlinked directory in dest does not write through it", async () => {
    const base = tempDir();
    const secondary = tempDir("src");
    const outside = outsideDir();
    tree(secondary, { "t/sub/victim": "pwned" });
    tree(base, { "out/sub": `->${outside}` });
    await expectError(
      applyFileAction(copyAction("/t", "/out", { dirCopyContents: true }), { base, secondary }),
      "copy /t: cannot copy to non-directory: /out/sub",
    );
    expectUntouched(outside);
  });
});

describe("reads stay inside secondary", () => {
  test("a source with .. is clamped", async () => {
    const base = tempDir();
    const secondary = tempDir("src");
    tree(secondary, { "etc/passwd": "fake" });
    await applyFileAction(copyAction("/../../etc/passwd", "/p"), { base, secondary });
    await applyFileAction(copyAction("../../etc/passwd", "/q"), { base, secondary });
    expect([read(base, "p"), read(base, "q")]).toEqual(["fake", "fake"]);
    await expectError(applyFileAction(copyAction("../../etc/shadow", "/s"), { base, secondary }), "copy ../../etc/shadow: no such file or directory");
  });

  test("a followed source symlink to a host path is resolved inside secondary", async () => {
    const base = tempDir();
    const secondary = tempDir("src");
    const outside = outsideDir();
    tree(secondary, { link: `->${join(outside, "victim")}`, dirlink: `->${outside}` });
    await expectError(
      applyFileAction(copyAction("/link", "/x", { followSymlink: true }), { base, secondary }),
      "copy /link: no such file or directory",
    );
    await expectError(applyFileAction(copyAction("/dirlink/victim", "/y"), { base, secondary }), "copy /dirlink/victim: no such file or directory");
    expect(exists(base, "x") || exists(base, "y")).toBe(false);
  });

  test("symlinks inside a copied tree are not followed", async () => {
    const base = tempDir();
    const secondary = tempDir("src");
    const outside = outsideDir();
    tree(secondary, { "t/secret": `->${join(outside, "victim")}`, "t/up": "->../../../../.." });
    await applyFileAction(copyAction("/t", "/out"), { base, secondary });
    expect(readlinkSync(join(base, "out/secret"))).toBe(join(outside, "victim"));
    expect(readlinkSync(join(base, "out/up"))).toBe("../../../../..");
    expectUntouched(outside);
  });

  test("wildcards below a symlink to a host directory match inside secondary only", async () => {
    const base = tempDir();
    const secondary = tempDir("src");
    const outside = outsideDir();
    tree(secondary, { dir: `->${outside}`, [`${outside.slice(1)}/inside`]: "in" });
    await applyFileAction(copyAction("/dir/*", "/out/", { allowWildcard: true, followSymlink: true }), { base, secondary });
    expect(readdirSync(join(base, "out"))).toEqual(["inside"]);
    // Without followSymlink the link ending the fixed prefix is not a directory: no matches (as fsutil).
    await expectError(
      applyFileAction(copyAction("/dir/*", "/out2/", { allowWildcard: true }), { base, secondary }),
      "copy /dir/*: no files matched the wildcard",
    );
  });

  test("the passwd lookup for a named owner stays inside base", async () => {
    const base = tempDir();
    const outside = outsideDir();
    writeFileSync(join(outside, "passwd"), "root:x:0:0::/:/bin/sh\n");
    tree(base, { "etc/passwd": `->${join(outside, "passwd")}` });
    await expectError(
      applyFileAction(mkfileAction("/f", "x", { owner: { user: { byName: { name: "root" } } } }), { base }),
      "mkfile /f: unable to find user root: no matching entries in passwd file",
    );
  });
});
