// The ext4 "top of hierarchies" flag on the state root's snapshots/ and bundles/ (sys/spread-dir.ts).
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spreadSubdirectories } from "../../../src/backends/standalone/sys/spread-dir.ts";
import { createStandaloneWorker } from "../../../src/backends/standalone/index.ts";

const EXT4_MAGIC = 0xef53;
const lsattr = (dir: string) => Bun.spawnSync(["lsattr", "-d", dir]).stdout.toString();

describe("spreadSubdirectories", () => {
  test("sets +T on ext4 (again: a no-op that still says true); elsewhere it only answers false, never throws", () => {
    const dir = mkdtempSync(join(tmpdir(), "spread-"));
    try {
      const onExt4 = statfsSync(dir).type === EXT4_MAGIC;
      expect(spreadSubdirectories(dir)).toBe(onExt4);
      expect(spreadSubdirectories(dir)).toBe(onExt4);
      if (onExt4 && Bun.which("lsattr")) expect(lsattr(dir).split(/\s+/)[0]).toContain("T");
      expect(spreadSubdirectories(join(dir, "missing"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a new state root gets it on snapshots/ and executor/bundles/; an existing one is left as it is", async () => {
    const root = mkdtempSync(join(tmpdir(), "spread-root-"));
    try {
      if (statfsSync(root).type !== EXT4_MAGIC || !Bun.which("lsattr") || process.getuid?.() !== 0) return;
      const worker = await createStandaloneWorker({ root });
      await worker.close();
      for (const dir of ["snapshots", "executor/bundles"]) expect(lsattr(join(root, dir)).split(/\s+/)[0]).toContain("T");
      expect(lsattr(join(root, "mnt")).split(/\s+/)[0]).not.toContain("T");
      const other = join(root, "other");
      mkdirSync(join(other, "snapshots"), { recursive: true });
      const again = await createStandaloneWorker({ root: other });
      await again.close();
      expect(lsattr(join(other, "snapshots")).split(/\s+/)[0]).not.toContain("T");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
