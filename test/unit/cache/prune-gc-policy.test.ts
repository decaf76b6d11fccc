// GC limits (BuildKit's calculateKeepBytes and default space), and the size/duration units.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultGCSpace, GC_QUIET_MS, gcDue, gcPolicies, keepBytes } from "../../../src/core/cache/gc.ts";
import { gcWaitMs } from "../../../src/core/cache/gc-due.ts";
import { planPrune } from "../../../src/core/cache/prune.ts";
import { formatAgo, formatSize, parseDuration, parseSize } from "../../../src/core/cache/units.ts";
import type { UsageRecord } from "../../../src/core/cache/usage.ts";

const GB = 1e9;
const GiB = 2 ** 30;

describe("GC limits", () => {
  test("defaults on a 100GiB disk: reserve 10%, max 80%, keep 20% free (rounded up to GB)", () => {
    expect(defaultGCSpace({ total: 100 * GiB, free: 50 * GiB })).toEqual({ reservedSpace: 10 * GB, maxUsedSpace: 81 * GB, minFreeSpace: 21 * GB });
  });

  test("defaults are capped on big disks and fall back to 2GB when the size is unknown", () => {
    const big = defaultGCSpace({ total: 4000 * GiB, free: 0 });
    expect(big.reservedSpace).toBe(10 * GB);
    expect(big.maxUsedSpace).toBe(100 * GB);
    expect(defaultGCSpace({ total: 0, free: 0 })).toEqual({ reservedSpace: 2 * GB, maxUsedSpace: 2 * GB, minFreeSpace: 2 * GB });
  });

  test("keepBytes: max used space when the disk has room", () => {
    expect(keepBytes(5 * GB, { total: 100 * GB, free: 60 * GB }, { reservedSpace: 10 * GB, maxUsedSpace: 80 * GB, minFreeSpace: 20 * GB })).toBe(80 * GB);
  });

  test("keepBytes: shrinks by the free-space shortfall, not below the reserve", () => {
    const space = { reservedSpace: 10 * GB, maxUsedSpace: 80 * GB, minFreeSpace: 20 * GB };
    expect(keepBytes(50 * GB, { total: 100 * GB, free: 15 * GB }, space)).toBe(45 * GB);
    expect(keepBytes(12 * GB, { total: 100 * GB, free: 1 * GB }, space)).toBe(10 * GB);
  });

  test("keepBytes: a single fixed limit (--gc-keep-storage) is the reserve", () => {
    expect(keepBytes(9 * GB, { total: 100 * GB, free: 1 * GB }, { reservedSpace: 3 * GB, maxUsedSpace: 0, minFreeSpace: 0 })).toBe(3 * GB);
    expect(keepBytes(9 * GB, { total: 100 * GB, free: 1 * GB }, { reservedSpace: 0, maxUsedSpace: 0, minFreeSpace: 0 })).toBe(0);
  });

  test("BuildKit's four policies: easy-to-remake data first, then old, then results, then internal", () => {
    const NOW = 100 * 86400e3;
    const rec = (id: string, over: Partial<UsageRecord>): UsageRecord => ({
      id, type: "regular", size: 300e6, created: 0, lastUsed: NOW, usageCount: 1, inUse: false, shared: false, description: "", parent: undefined, inputs: [], ...over,
    });
    const records = [
      rec("local-old", { type: "source.local", lastUsed: NOW - 3 * 86400e3 }),
      rec("local-new", { type: "source.local", lastUsed: NOW - 3600e3 }),
      rec("ancient", { lastUsed: NOW - 61 * 86400e3 }),
      rec("result", { lastUsed: NOW - 86400e3 }),
      rec("internal", { type: "internal", lastUsed: undefined, created: NOW - 2 * 86400e3 }),
    ];
    const policies = gcPolicies({ reservedSpace: 400e6, maxUsedSpace: 0, minFreeSpace: 0 }, { total: 0, free: 0 });
    const chosen = policies.map((p) => planPrune(records, p, NOW).map((r) => r.id));
    expect(chosen[0]).toEqual(["local-old"]);
    expect(chosen[1]).toEqual(["ancient"]);
    expect(chosen[2]?.[0]).toBe("ancient");
    expect(chosen[2]).not.toContain("internal");
    expect(chosen[3]?.[0]).toBe("ancient");
    expect(chosen[3]).toContain("internal");
  });
});

describe("units", () => {
  test("parseSize", () => {
    expect(parseSize("10GB")).toBe(10e9);
    expect(parseSize("512MB")).toBe(512e6);
    expect(parseSize("512mb")).toBe(512e6);
    expect(parseSize("1.5GiB")).toBe(1.5 * GiB);
    expect(parseSize("4096")).toBe(4096);
    expect(parseSize("100", 1e6)).toBe(100e6);
    expect(parseSize(" 2 kB ")).toBe(2000);
    for (const bad of ["", "GB", "-1GB", "10XB", "1e3"]) expect(() => parseSize(bad)).toThrow(expect.objectContaining({ code: "InvalidArgument" }));
  });

  test("parseDuration", () => {
    expect(parseDuration("24h")).toBe(24 * 3600e3);
    expect(parseDuration("1h30m")).toBe(90 * 60e3);
    expect(parseDuration("2d")).toBe(2 * 86400e3);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("90")).toBe(90e3);
    for (const bad of ["", "h", "5 minutes", "1x"]) expect(() => parseDuration(bad)).toThrow(expect.objectContaining({ code: "InvalidArgument" }));
  });

  test("formatSize and formatAgo", () => {
    expect(formatSize(0)).toBe("0B");
    expect(formatSize(999)).toBe("999B");
    expect(formatSize(54_290_000)).toBe("54.29MB");
    expect(formatSize(2.3e9)).toBe("2.30GB");
    expect(formatAgo(1000, 1500)).toBe("less than a second ago");
    expect(formatAgo(0, 60e3)).toBe("1 minute ago");
    expect(formatAgo(0, 3 * 3600e3 + 5)).toBe("3 hours ago");
  });
});

describe("gcDue: GC at most once a minute, sooner only when a build made something on a disk low on space", () => {
  const roomy = () => ({ total: 100 * GiB, free: 50 * GiB });
  const low = () => ({ total: 100 * GiB, free: 10 * GiB }); // under the default 20% minimum free
  test("no stamp: due; a fresh stamp: due only after a build that made something on a low disk; an old one: due", () => {
    const root = mkdtempSync(join(tmpdir(), "gc-due-"));
    try {
      const now = Date.now();
      expect(gcDue(root, false, now, roomy)).toBe(true);
      expect(gcWaitMs(root, now)).toBe(0);
      writeFileSync(join(root, "gc.stamp"), "");
      expect(gcDue(root, false, now, roomy)).toBe(false);
      expect(gcDue(root, true, now, roomy)).toBe(false);
      expect(gcDue(root, true, now, low)).toBe(true);
      expect(gcDue(root, false, now, low)).toBe(false);
      expect(gcDue(root, true, now, () => ({ total: 0, free: 0 }))).toBe(false); // unknown disk: wait
      expect(gcWaitMs(root, now)).toBeGreaterThan(GC_QUIET_MS - 5_000);
      expect(gcDue(root, true, now + GC_QUIET_MS, roomy)).toBe(true);
      const old = new Date(now - GC_QUIET_MS - 1000);
      utimesSync(join(root, "gc.stamp"), old, old);
      expect(gcDue(root, false, now, roomy)).toBe(true);
      expect(gcWaitMs(root, now)).toBe(0);
      // A stamp from the future (the clock was set back): due, not a wait of days.
      const ahead = new Date(now + 3 * 24 * 3600e3);
      utimesSync(join(root, "gc.stamp"), ahead, ahead);
      expect(gcDue(root, false, now, roomy)).toBe(true);
      expect(gcWaitMs(root, now)).toBe(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
