// LLBBridge ReadDir / StatFile answers on a directory standing in for a mounted result.
import { afterAll, describe, expect, test } from "bun:test";
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readDirStats, statFileAt } from "../../../../src/api/gateway/read-dir.ts";
import { GoMode } from "../../../../src/api/session/filesync/file-mode.ts";
import { LLBBridgeService } from "../../../../src/api/grpc/services.ts";

const root = mkdtempSync(join(tmpdir(), "bk-readdir-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, "app/src/deep"), { recursive: true });
writeFileSync(join(root, "app/b.txt"), "bee");
writeFileSync(join(root, "app/a.go"), "package a");
writeFileSync(join(root, "app/src/deep/x.go"), "package x");
linkSync(join(root, "app/b.txt"), join(root, "app/c.txt"));
symlinkSync("/etc/passwd", join(root, "app/link"));
utimesSync(join(root, "app/b.txt"), 1600000000, 1600000000);

describe("ReadDir", () => {
  test("a directory's own entries in name order, as fsutil Stats (no recursion, hard links named, symlinks not followed)", async () => {
    const stats = await readDirStats(root, "/app", "");
    expect(stats.map((s) => s.path)).toEqual(["a.go", "b.txt", "c.txt", "link", "src"]);
    const byName = Object.fromEntries(stats.map((s) => [s.path, s]));
    expect(byName["b.txt"]!.size).toBe(3);
    expect(byName["b.txt"]!.modTime).toBe(1600000000 * 1e9);
    expect(byName["c.txt"]!.linkname).toBe("b.txt");
    expect(byName.link!.linkname).toBe("/etc/passwd");
    expect(byName.link!.mode & GoMode.symlink).toBeTruthy();
    expect(byName.src!.mode & GoMode.dir).toBeTruthy();
    expect(byName.src!.size).toBe(0);
  });

  test("an include pattern keeps the entries that match or lead to a match", async () => {
    expect((await readDirStats(root, "app", "*.go")).map((s) => s.path)).toEqual(["a.go"]);
    expect((await readDirStats(root, "app", "src/deep/*.go")).map((s) => s.path)).toEqual(["src"]);
  });

  test("paths stay inside the result; a missing directory is NotFound", async () => {
    expect((await readDirStats(root, "../../app/src", "")).map((s) => s.path)).toEqual(["deep"]);
    await expect(readDirStats(root, "/nope", "")).rejects.toThrow("reading directory /nope: no such file or directory");
  });
});

describe("StatFile", () => {
  test("one path, named by its last element, never followed", async () => {
    const st = await statFileAt(root, "/app/link");
    expect(st.path).toBe("link");
    expect(st.linkname).toBe("/etc/passwd");
    expect((await statFileAt(root, "app/src/deep/x.go")).size).toBe(9);
    await expect(statFileAt(root, "/app/none")).rejects.toThrow("stat /app/none: no such file or directory");
  });
});

test("the answers survive the wire (LLBBridge's ReadDir/StatFile response messages)", async () => {
  const { ReadDir, StatFile } = LLBBridgeService.methods;
  const entries = await readDirStats(root, "app", "");
  const back = ReadDir.responseType.decode(ReadDir.responseType.encode({ entries }).finish()) as { entries: { path: string; modTime: unknown; linkname: string }[] };
  expect(back.entries.map((e) => [e.path, Number(e.modTime), e.linkname])).toEqual(entries.map((e) => [e.path, e.modTime, e.linkname]));
  const stat = await statFileAt(root, "app/b.txt");
  const st = StatFile.responseType.decode(StatFile.responseType.encode({ stat }).finish()) as { stat: { size: unknown } };
  expect(Number(st.stat.size)).toBe(3);
});
