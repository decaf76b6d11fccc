// lstat through statx relative to an open directory (src/core/fs/statx.ts) against Node's lstat.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeDirectory, lstatAt, lstatFullAt, openDirectory } from "../../../src/core/fs/statx.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "buildkit-ts-statx-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("lstatAt", () => {
  test("reports what Node's lstat reports, never following a symlink", () => {
    writeFileSync(join(dir, "f"), "x".repeat(70_000));
    chmodSync(join(dir, "f"), 0o4755);
    utimesSync(join(dir, "f"), 1_600_000_000.123456, 1_700_000_000.987654);
    mkdirSync(join(dir, "d"));
    symlinkSync("/etc/passwd", join(dir, "l"));
    const fd = openDirectory(dir);
    try {
      for (const name of readdirSync(dir)) {
        const a = lstatAt(fd, name);
        const b = lstatSync(join(dir, name), { bigint: true });
        expect([name, a]).toEqual([
          name,
          { mode: Number(b.mode), uid: Number(b.uid), gid: Number(b.gid), nlink: Number(b.nlink), size: Number(b.size), blocks: Number(b.blocks), ino: b.ino, dev: b.dev, mtimeNs: b.mtimeNs, ctimeNs: b.ctimeNs },
        ]);
      }
      expect(lstatAt(fd, "missing")).toBeUndefined();
      expect(lstatAt(fd, "f/below-a-file")).toBeUndefined();
    } finally {
      closeDirectory(fd);
    }
  });

  test("the full variant adds atime and rdev", () => {
    writeFileSync(join(dir, "f"), "x");
    utimesSync(join(dir, "f"), 1_600_000_000.123456, 1_700_000_000.987654);
    for (const [at, name] of [[dir, "f"], ["/dev", "null"]] as const) {
      const fd = openDirectory(at);
      try {
        const a = lstatFullAt(fd, name);
        const b = lstatSync(join(at, name), { bigint: true });
        expect([a?.atimeNs, a?.rdev, a?.mtimeNs]).toEqual([b.atimeNs, b.rdev, b.mtimeNs]);
      } finally {
        closeDirectory(fd);
      }
    }
  });

  test("a directory that is a symlink is not opened", () => {
    symlinkSync(dir, join(dir, "self"));
    expect(() => openDirectory(join(dir, "self"))).toThrow();
  });
});
