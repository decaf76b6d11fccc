import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectGitCache } from "../../../../src/core/sources/git/cache-gc.ts";

describe("git cache garbage collection", () => {
  test("repositories unused for 30 days and stale half-made ones go; recent ones stay", async () => {
    const root = mkdtempSync(join(tmpdir(), "git-gc-"));
    try {
      const now = Date.now();
      const make = (name: string, ageMs: number) => {
        const dir = join(root, "git", name);
        mkdirSync(join(dir, "objects"), { recursive: true });
        const t = new Date(now - ageMs);
        utimesSync(dir, t, t);
      };
      make("recent", 86400e3);
      make("old", 31 * 86400e3);
      make("abc.tmp-1", 2 * 3600e3);
      make("def.tmp-2", 60e3);
      expect(await collectGitCache(root, now)).toEqual({ repos: 1 });
      expect(readdirSync(join(root, "git")).sort()).toEqual(["def.tmp-2", "recent"]);
      expect(await collectGitCache(join(root, "nothing-here"), now)).toEqual({ repos: 0 });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
