// A copy of a whole tree onto an empty base reproduces its source exactly, root included, when
// whole-copy.ts says so: the file op then takes the source snapshot itself as its result.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { applyFileAction } from "../../../src/core/fs/file-actions.ts";
import { getXattr, listXattrs, setXattr } from "../../../src/core/fs/sys.ts";
import { copiesWholeTree, sameRootAttributes } from "../../../src/core/fs/whole-copy.ts";
import { makeContentTree } from "../../fixtures/content-tree.ts";
import { cleanup, copyAction, isRoot, tempDir } from "./fixtures.ts";

afterEach(cleanup);

/** Every entry's kind, mode, owner, size, mtime, content or target, xattrs and hard-link group; "" is the root. */
function describeTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const inodes = new Map<bigint, string>();
  const visit = (rel: string) => {
    const p = rel === "" ? root : join(root, rel);
    const st = lstatSync(p, { bigint: true });
    const kind = st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "file";
    const body = kind === "file" ? readFileSync(p, "hex") : kind === "symlink" ? readlinkSync(p) : "";
    const xattrs = kind === "symlink" ? [] : listXattrs(p).sort().map((n) => `${n}=${Buffer.from(getXattr(p, n) ?? []).toString("hex")}`);
    const group = kind === "file" && st.nlink > 1n ? (inodes.get(st.ino) ?? (inodes.set(st.ino, rel), rel)) : "";
    const mtime = kind === "symlink" ? "" : String(st.mtimeNs);
    out.set(rel, [kind, (st.mode & 0o7777n).toString(8), st.uid, st.gid, kind === "dir" ? "" : st.size, mtime, body, xattrs.join(","), group].join(" "));
    if (kind === "dir") for (const name of readdirSync(p).sort()) visit(rel === "" ? name : `${rel}/${name}`);
  };
  visit("");
  return out;
}

/** A source tree with modes, owners, symlinks, a hard link, xattrs and odd times; its root made like an empty base's. */
function sourceTree(): string {
  const src = tempDir("src");
  makeContentTree(src, { owners: isRoot });
  linkSync(join(src, "app.txt"), join(src, "sub/app-link"));
  try {
    setXattr(join(src, "sub/a.txt"), "user.test", new TextEncoder().encode("v"));
  } catch {
    // a file system without user xattrs: the rest still holds
  }
  mkdirSync(join(src, "sub/deep/deeper"), { recursive: true });
  utimesSync(join(src, "sub"), 1_600_000_000.5, 1_600_000_000.25);
  utimesSync(src, 1_500_000_000.5, 1_500_000_000.75);
  return src;
}

const wholeCopy = copyAction("/", "/");

describe("whole-tree copies", () => {
  test("copying / onto an empty base whose root matches gives the source tree, root included", async () => {
    for (const linkable of [false, true]) {
      const src = sourceTree();
      const dest = tempDir("dest");
      chmodSync(dest, lstatSync(src).mode & 0o7777);
      expect(copiesWholeTree(wholeCopy.copy!)).toBe(true);
      expect(sameRootAttributes(src, dest)).toBe(true);
      const before = describeTree(src);
      await applyFileAction(wholeCopy, { base: dest, secondary: src, linkable });
      // (linked files gain a link count: the source is described again after the copy)
      const after = describeTree(src);
      if (!linkable) expect(after).toEqual(before);
      expect(describeTree(dest)).toEqual(after);
    }
  });

  test("a root whose mode differs from the empty base's is not reproduced: no shortcut", async () => {
    const src = sourceTree();
    const dest = tempDir("dest");
    chmodSync(src, 0o750);
    chmodSync(dest, 0o755);
    expect(sameRootAttributes(src, dest)).toBe(false);
    await applyFileAction(wholeCopy, { base: dest, secondary: src });
    // The copy keeps the base root's mode: the result is not the source.
    expect(lstatSync(dest).mode & 0o7777).toBe(0o755);
  });

  test("a root with xattrs the base has not is not reproduced", () => {
    const src = tempDir("src");
    const dest = tempDir("dest");
    try {
      setXattr(src, "user.root", new TextEncoder().encode("x"));
    } catch {
      return; // no user xattrs here
    }
    expect(sameRootAttributes(src, dest)).toBe(false);
  });

  test("any filter, override, wildcard or other path is not a whole copy", () => {
    const variants = [
      copyAction("/sub", "/"),
      copyAction("/", "/out"),
      copyAction("/*", "/", { allowWildcard: true }),
      copyAction("/", "/", { include_patterns: ["**"] }),
      copyAction("/", "/", { exclude_patterns: ["x"] }),
      copyAction("/", "/", { mode: 0o755 }),
      copyAction("/", "/", { modeStr: "u+x" }),
      copyAction("/", "/", { timestamp: 0 }),
      copyAction("/", "/", { owner: { user: { byID: 0 } } }),
      { copy: { src: "/", dest: "/" } }, // proto3 defaults: mode 0 and timestamp 0 are overrides
    ];
    for (const v of variants) expect(copiesWholeTree(v.copy!)).toBe(false);
    for (const same of [copyAction(".", "/."), copyAction("/", "/", { allowWildcard: true, dirCopyContents: true, createDestPath: true, followSymlink: true })]) {
      expect(copiesWholeTree(same.copy!)).toBe(true);
    }
  });
});
