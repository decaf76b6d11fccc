import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectLocalMirrors, mirrorStamp } from "../../../../src/core/sources/local/mirror-gc.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test("copies whose stamp is older than a week go; recent ones stay, whatever the copy's own times", async () => {
  const root = mkdtempSync(join(tmpdir(), "mirror-gc-"));
  dirs.push(root);
  const mirrors = join(root, "local-mirrors");
  const old = join(mirrors, "aaa-0");
  const recent = join(mirrors, "bbb-0");
  for (const m of [old, recent]) {
    mkdirSync(m, { recursive: true });
    writeFileSync(join(m, "file"), "x");
    writeFileSync(mirrorStamp(m), "");
    // The client's times: years old.
    utimesSync(m, new Date(2000, 0, 1), new Date(2000, 0, 1));
  }
  const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
  utimesSync(mirrorStamp(old), eightDaysAgo, eightDaysAgo);
  expect(await collectLocalMirrors(root)).toEqual({ mirrors: 1 });
  expect(existsSync(old)).toBe(false);
  expect(existsSync(mirrorStamp(old))).toBe(false);
  expect(existsSync(join(recent, "file"))).toBe(true);
});
