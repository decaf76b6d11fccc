import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectStatFiles, statFileDirs, touchIfOld } from "../../../../src/core/sources/local/stat-files-gc.ts";
import { sha256 } from "../../../../src/core/digest.ts";
import { TreeStampFiles } from "../../../../src/core/sources/local/tree-stamps.ts";

const DAY = 24 * 3600 * 1000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stateRoot(): { root: string; stamps: string; copies: string } {
  const root = mkdtempSync(join(tmpdir(), "stat-files-gc-"));
  dirs.push(root);
  const [stamps, copies] = statFileDirs(root) as [string, string];
  mkdirSync(stamps, { recursive: true });
  mkdirSync(copies, { recursive: true });
  return { root, stamps, copies };
}

function fileAged(path: string, ageMs: number): string {
  writeFileSync(path, "x".repeat(100));
  const t = new Date(Date.now() - ageMs);
  utimesSync(path, t, t);
  return path;
}

test("GC removes stamps, tree records and copy records unused for over a week; newer ones stay", async () => {
  const { root, stamps, copies } = stateRoot();
  const old = [fileAged(join(stamps, "a"), 8 * DAY), fileAged(join(stamps, "a.tree"), 8 * DAY), fileAged(join(copies, "a"), 8 * DAY)];
  const recent = [fileAged(join(stamps, "b"), 6 * DAY), fileAged(join(stamps, "b.tree"), 1 * DAY), fileAged(join(copies, "b"), 0)];
  expect((await collectStatFiles(root)).files).toBe(3);
  expect(old.map(existsSync)).toEqual([false, false, false]);
  expect(recent.map(existsSync)).toEqual([true, true, true]);
});

test("a full prune removes them all but a temporary file a running build may be renaming in", async () => {
  const { root, stamps, copies } = stateRoot();
  const all = [fileAged(join(stamps, "a"), 0), fileAged(join(stamps, "a.tree"), 0), fileAged(join(copies, "a"), 0), fileAged(join(stamps, "c.1.x.tmp"), 2 * 3600e3)];
  const young = fileAged(join(copies, "b.2.y.tmp"), 0);
  expect((await collectStatFiles(root, { all: true })).files).toBe(4);
  expect(all.some(existsSync)).toBe(false);
  expect(existsSync(young)).toBe(true);
});

test("no stat-cache directories: nothing to do", async () => {
  const root = mkdtempSync(join(tmpdir(), "stat-files-gc-"));
  dirs.push(root);
  expect(await collectStatFiles(root, { all: true })).toEqual({ files: 0, bytes: 0 });
});

test("touchIfOld refreshes a file over a day old, leaves a newer one and skips a missing one", () => {
  const { stamps } = stateRoot();
  const old = fileAged(join(stamps, "old"), 3 * DAY);
  const fresh = fileAged(join(stamps, "fresh"), 3600e3);
  const freshTime = statSync(fresh).mtimeMs;
  touchIfOld([old, fresh, join(stamps, "missing")]);
  expect(Date.now() - statSync(old).mtimeMs).toBeLessThan(60_000);
  expect(statSync(fresh).mtimeMs).toBe(freshTime);
});

test("reading a stamp keeps it and its tree records from GC, though neither is rewritten", async () => {
  const { root, stamps } = stateRoot();
  const files = new TreeStampFiles(stamps);
  const key = "/some/dir\x00filters";
  files.set(key, { stamp: "s", digest: sha256("tree"), files: 1, bytes: 2 });
  const stamp = join(stamps, readdirSync(stamps)[0]!);
  const tree = fileAged(`${stamp}.tree`, 8 * DAY);
  const t = new Date(Date.now() - 8 * DAY);
  utimesSync(stamp, t, t);
  expect(files.get(key)?.stamp).toBe("s");
  expect((await collectStatFiles(root)).files).toBe(0);
  expect([existsSync(stamp), existsSync(tree)]).toEqual([true, true]);
});
