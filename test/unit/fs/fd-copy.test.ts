// The fd-based file copy and link between two open directories (src/core/fs/fd-copy.ts).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDirPair } from "../../../src/core/fs/fd-copy.ts";
import type { DirPair } from "../../../src/core/fs/fd-copy.ts";

let base: string;
let src: string;
let dst: string;
let pair: DirPair;
const asRoot = process.getuid?.() === 0;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "buildkit-ts-fd-copy-"));
  src = join(base, "src");
  dst = join(base, "dst");
  mkdirSync(src);
  mkdirSync(dst);
  const opened = openDirPair(src, dst);
  if (!opened) throw new Error("libc is not available here");
  pair = opened;
});
afterEach(() => {
  pair.close();
  rmSync(base, { recursive: true, force: true });
});

const T = 1_600_000_000_123_456_789n;

describe("DirPair", () => {
  test("copies content with mode, owner and nanosecond times; the target must not exist", () => {
    writeFileSync(join(src, "f"), "content");
    pair.copyFile("f", { size: 7, mode: 0o104755, timeNs: T, ...(asRoot ? { uid: 1234, gid: 5678 } : {}) });
    const st = lstatSync(join(dst, "f"), { bigint: true });
    expect(readFileSync(join(dst, "f"), "utf8")).toBe("content");
    expect(Number(st.mode & 0o7777n)).toBe(0o4755); // set-uid kept after the chown
    expect(st.mtimeNs).toBe(T);
    expect(st.atimeNs).toBe(T);
    if (asRoot) expect([Number(st.uid), Number(st.gid)]).toEqual([1234, 5678]);
    expect(() => pair.copyFile("f", { size: 7, mode: 0o100644, timeNs: T })).toThrow(/EEXIST/);
  });

  test("copies the size it is told, even when the file grew since", () => {
    writeFileSync(join(src, "g"), "0123456789");
    pair.copyFile("g", { size: 4, mode: 0o100600, timeNs: T });
    expect(readFileSync(join(dst, "g"), "utf8")).toBe("0123");
    expect(lstatSync(join(dst, "g")).mode & 0o7777).toBe(0o600);
  });

  test("never follows a symlink on either side", () => {
    writeFileSync(join(base, "outside"), "secret");
    symlinkSync(join(base, "outside"), join(src, "l"));
    expect(() => pair.copyFile("l", { size: 6, mode: 0o100644, timeNs: T })).toThrow(/ELOOP/);
    writeFileSync(join(src, "f"), "x");
    symlinkSync(join(base, "outside"), join(dst, "f"));
    expect(() => pair.copyFile("f", { size: 1, mode: 0o100644, timeNs: T })).toThrow(/EEXIST/);
    expect(readFileSync(join(base, "outside"), "utf8")).toBe("secret");
  });

  test("a name too long for the kernel is refused whole, never cut short", () => {
    writeFileSync(join(src, "é"), "x");
    expect(() => pair.copyFile("é".repeat(600), { size: 1, mode: 0o100644, timeNs: T })).toThrow(/too long/);
    expect(readdirSync(dst)).toEqual([]);
  });

  test("links by name, reporting failures as errno names", () => {
    writeFileSync(join(src, "f"), "x");
    expect(pair.link("f")).toBeUndefined();
    expect(lstatSync(join(dst, "f")).ino).toBe(lstatSync(join(src, "f")).ino);
    expect(pair.link("f")).toBe("EEXIST");
    expect(pair.link("missing")).toBe("ENOENT");
  });
});
