// The diff of two trees as a tree of its own (src/core/fs/tree-diff.ts).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, cpSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, lutimesSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findDeletions, writeTreeDiff } from "../../../src/core/fs/tree-diff.ts";

let base: string;
let lower: string;
let upper: string;
let out: string;
const asRoot = process.getuid?.() === 0;
const OLD = 1_500_000_000;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "buildkit-ts-tree-diff-"));
  [lower, upper, out] = ["lower", "upper", "out"].map((n) => join(base, n)) as [string, string, string];
  mkdirSync(join(lower, "same/deep"), { recursive: true });
  mkdirSync(join(lower, "mod"), { recursive: true });
  writeFileSync(join(lower, "same/deep/keep"), "keep");
  writeFileSync(join(lower, "mod/f"), "old");
  writeFileSync(join(lower, "gone"), "gone");
  symlinkSync("same", join(lower, "link"));
  writeFileSync(join(lower, "file-then-dir"), "f");
  for (const p of ["same/deep/keep", "mod/f", "gone", "file-then-dir"]) utimesSync(join(lower, p), OLD, OLD);
  cpSync(lower, upper, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  // cpSync does not carry a symlink's own times: set both, or they differ by the clock tick
  // between the two creations (nanosecond times are compared).
  for (const root of [lower, upper]) lutimesSync(join(root, "link"), OLD, OLD);
  mkdirSync(out);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

/** Every path under dir, sorted. */
function list(dir: string, rel = ""): string[] {
  return readdirSync(join(dir, rel)).sort().flatMap((n) => {
    const p = rel === "" ? n : `${rel}/${n}`;
    return lstatSync(join(dir, p)).isDirectory() ? [p, ...list(dir, p)] : [p];
  });
}

describe("writeTreeDiff", () => {
  test("carries new and changed entries with their parents, and nothing unchanged", async () => {
    writeFileSync(join(upper, "mod/f"), "new content");
    utimesSync(join(upper, "mod/f"), 1_600_000_000.123456, 1_600_000_000.123456);
    writeFileSync(join(upper, "same/deep/added"), "added");
    rmSync(join(upper, "gone"));
    rmSync(join(upper, "link"));
    symlinkSync("mod", join(upper, "link"));
    rmSync(join(upper, "file-then-dir"));
    mkdirSync(join(upper, "file-then-dir"));
    writeFileSync(join(upper, "file-then-dir/x"), "x");
    mkdirSync(join(upper, "newdir/empty"), { recursive: true });
    chmodSync(join(upper, "newdir"), 0o750);
    writeFileSync(join(upper, "a"), "hard");
    linkSync(join(upper, "a"), join(upper, "b"));
    if (asRoot) chownSync(join(upper, "a"), 1234, 5678);
    chmodSync(join(upper, "a"), 0o4711);
    utimesSync(join(upper, "newdir"), OLD, OLD);
    await writeTreeDiff(lower, upper, out);
    expect(list(out)).toEqual(["a", "b", "file-then-dir", "file-then-dir/x", "link", "mod", "mod/f", "newdir", "newdir/empty", "same", "same/deep", "same/deep/added"]);
    expect(readFileSync(join(out, "mod/f"), "utf8")).toBe("new content");
    expect(lstatSync(join(out, "mod/f"), { bigint: true }).mtimeNs).toBe(lstatSync(join(upper, "mod/f"), { bigint: true }).mtimeNs);
    expect(readlinkSync(join(out, "link"))).toBe("mod");
    expect(lstatSync(join(out, "a")).ino).toBe(lstatSync(join(out, "b")).ino);
    expect(lstatSync(join(out, "a")).mode & 0o7777).toBe(0o4711);
    if (asRoot) expect([lstatSync(join(out, "a")).uid, lstatSync(join(out, "a")).gid]).toEqual([1234, 5678]);
    // A made directory gets its metadata after its children are written.
    expect(lstatSync(join(out, "newdir")).mode & 0o7777).toBe(0o750);
    expect(lstatSync(join(out, "newdir")).mtimeMs).toBe(OLD * 1000);
  });

  test("identical trees give an empty diff", async () => {
    await writeTreeDiff(lower, upper, out);
    expect(list(out)).toEqual([]);
  });

  test("returns the top-most deleted paths and carries their parent directories", async () => {
    rmSync(join(upper, "same/deep"), { recursive: true });
    rmSync(join(upper, "gone"));
    rmSync(join(upper, "file-then-dir"));
    mkdirSync(join(upper, "file-then-dir"));
    expect(findDeletions(lower, upper)).toEqual(["gone", "same/deep"]);
    expect(await writeTreeDiff(lower, upper, out)).toEqual(["gone", "same/deep"]);
    // "same" is unchanged itself but holds a deletion; a type change is a replacement, not a deletion.
    expect(list(out)).toEqual(["file-then-dir", "same"]);
  });
});
