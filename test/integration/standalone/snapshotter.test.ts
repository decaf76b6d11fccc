// The overlay snapshotter against the shared Snapshotter suite, plus what is its own: sweeping
// after an unclean stop, overlay options longer than a page, and the sys/mount helpers.
// Needs root and overlayfs: skips with the reason otherwise, and fails instead under CI=true.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOverlaySnapshotter } from "../../../src/backends/standalone/snapshotter.ts";
import type { OverlaySnapshotter } from "../../../src/backends/standalone/snapshotter.ts";
import { mountAll, unmount, withMounted } from "../../../src/backends/standalone/sys/mount.ts";
import { kernelHasVolatileOverlay } from "../../../src/backends/standalone/sys/overlay-volatile.ts";
import type { Mount } from "../../../src/core/worker/mount.ts";
import { describeSnapshotter } from "../../conformance/snapshotter.ts";

/** Why these tests cannot run here, or undefined when they can. */
function missingPrerequisite(): string | undefined {
  if (process.platform !== "linux") return `overlayfs needs Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return "mounting needs root";
  const dir = mkdtempSync(join(tmpdir(), "buildkit-probe-"));
  try {
    for (const sub of ["lower1", "lower2", "target"]) mkdirSync(join(dir, sub));
    mountAll([{ type: "overlay", source: "overlay", options: [`lowerdir=${dir}/lower1:${dir}/lower2`] }], join(dir, "target"));
    unmount(join(dir, "target"));
    return undefined;
  } catch (err) {
    return `cannot mount overlayfs: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function openTemp(parent = tmpdir()): Promise<{ root: string; snapshotter: OverlaySnapshotter }> {
  const root = await mkdtemp(join(parent, "buildkit-snapshots-"));
  return { root, snapshotter: await createOverlaySnapshotter({ root }) };
}

async function overlayFixture() {
  const { root, snapshotter } = await openTemp();
  return {
    snapshotter,
    async cleanup() {
      await snapshotter.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function commitLayer(s: OverlaySnapshotter, name: string, parent: string | undefined, file: string): Promise<void> {
  await withMounted(await s.prepare(`${name}-key`, parent), (dir) => writeFile(join(dir, file), name));
  await s.commit(name, `${name}-key`);
}

const readIn = (mounts: readonly Mount[], file: string) => withMounted(mounts, async (dir) => readFileSync(join(dir, file), "utf8"));

const reason = missingPrerequisite();
if (reason !== undefined && process.env.CI === "true") {
  test("overlay snapshotter prerequisites", () => {
    throw new Error(`CI=true, so a skip is a failure: ${reason}`);
  });
} else if (reason !== undefined) {
  test.skip(`overlay snapshotter (skipped: ${reason})`, () => {});
} else {
  describeSnapshotter("overlay", overlayFixture);

  describe("overlay snapshotter", () => {
    test("reopening after an unclean stop sweeps active snapshots and orphans, keeps committed ones", async () => {
      const { root, snapshotter: first } = await openTemp();
      try {
        await commitLayer(first, "base", undefined, "base.txt");
        await withMounted(await first.prepare("half-written", "base"), (dir) => writeFile(join(dir, "partial"), "x"));
        await first.view("a-view", "base");
        const orphan = join(root, "snapshots", "999999", "fs");
        mkdirSync(orphan, { recursive: true });
        writeFileSync(join(orphan, "junk"), "junk");
        // close() does no clean-up of its own, so closing here is as good as a crash.
        await first.close();

        const second = await createOverlaySnapshotter({ root });
        try {
          expect(second.swept).toEqual({ active: 2, orphans: 1 });
          expect((await second.list()).map((i) => [i.name, i.kind])).toEqual([["base", "committed"]]);
          expect(existsSync(join(root, "snapshots", "999999"))).toBe(false);
          expect(await readIn(await second.view("check", "base"), "base.txt")).toBe("base");
          await second.prepare("half-written", "base");
        } finally {
          await second.close();
        }
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });

    test("active overlays are volatile where the kernel has it, and mount again after an unmount", async () => {
      const { root, snapshotter } = await openTemp();
      try {
        await commitLayer(snapshotter, "base", undefined, "base.txt");
        const mounts = await snapshotter.prepare("work", "base");
        expect(mounts[0]?.options.includes("volatile")).toBe(kernelHasVolatileOverlay());
        await withMounted(mounts, (dir) => writeFile(join(dir, "first"), "1"));
        // overlayfs leaves a marker in the work dir after a volatile mount; mounting again works.
        await withMounted(await snapshotter.mounts("work"), (dir) => writeFile(join(dir, "second"), "2"));
        await snapshotter.commit("top", "work");
        const view = await snapshotter.view("v", "top");
        expect(await readIn(view, "first")).toBe("1");
        expect(await readIn(view, "second")).toBe("2");
        expect(await readIn(view, "base.txt")).toBe("base");
      } finally {
        await snapshotter.close();
        await rm(root, { recursive: true, force: true });
      }
    });

    test("volatile overlays only on Linux 5.10 and later", () => {
      expect(kernelHasVolatileOverlay("5.9.16")).toBe(false);
      expect(kernelHasVolatileOverlay("5.10.0-23-amd64")).toBe(true);
      expect(kernelHasVolatileOverlay("6.1.0")).toBe(true);
      expect(kernelHasVolatileOverlay("4.19.0")).toBe(false);
      expect(kernelHasVolatileOverlay("weird")).toBe(false);
    });

    test("lowerdir options longer than a page mount through relative paths", async () => {
      // ~450-byte paths: 12 lower dirs make a lowerdir option over 4096 bytes.
      const top = await mkdtemp(join(tmpdir(), `buildkit-long-${"d".repeat(200)}-`));
      const deep = join(top, "e".repeat(200));
      mkdirSync(deep);
      const { snapshotter: s } = await openTemp(deep);
      const cwd = process.cwd();
      try {
        let parent: string | undefined;
        for (let i = 0; i < 12; i++) {
          await commitLayer(s, `l${i}`, parent, `f${i}`);
          parent = `l${i}`;
        }
        const mounts = await s.prepare("top", parent);
        expect(mounts[0]?.options.join(",").length).toBeGreaterThan(4096);
        expect(await readIn(mounts, "f0")).toBe("l0");
        expect(await readIn(await s.view("top-view", parent), "f11")).toBe("l11");
        expect(process.cwd()).toBe(cwd);
      } finally {
        await s.close();
        await rm(top, { recursive: true, force: true });
      }
    });
  });

  describe("long chains", () => {
    test("past maxLowers a chain mounts through flattened copies, deletions and all, reused by the next step", async () => {
      const root = await mkdtemp(join(tmpdir(), "buildkit-chain-"));
      const s = await createOverlaySnapshotter({ root, maxLowers: 8 });
      try {
        let parent: string | undefined;
        for (let i = 0; i < 30; i++) {
          // Every 5th layer deletes the file two layers below it: whiteouts must survive flattening.
          await withMounted(await s.prepare(`c${i}-key`, parent), async (dir) => {
            if (i % 5 === 4) await rm(join(dir, `f${i - 2}`));
            else await writeFile(join(dir, `f${i}`), `c${i}`);
          });
          await s.commit(`c${i}`, `c${i}-key`);
          parent = `c${i}`;
        }
        const mounts = await s.view("v", parent);
        const lowers = (mounts[0]?.options.find((o) => o.startsWith("lowerdir=")) ?? "").split(":");
        expect(lowers.length).toBeLessThanOrEqual(8);
        const files = await withMounted(mounts, async (dir) => readdirSync(dir).sort());
        const expected = Array.from({ length: 30 }, (_, i) => i)
          .filter((i) => i % 5 !== 4 && (i + 2) % 5 !== 4)
          .map((i) => `f${i}`)
          .sort();
        expect(files).toEqual(expected);
        expect(await readIn(await s.prepare("w", parent), "f0")).toBe("c0");
        // The flattened copies live in the snapshots' own dirs and are reused, not remade.
        const flats = readdirSync(join(root, "snapshots")).filter((d) => existsSync(join(root, "snapshots", d, "flat")));
        expect(flats.length).toBeGreaterThan(0);
        await s.view("v2", parent);
        expect(readdirSync(join(root, "snapshots")).filter((d) => existsSync(join(root, "snapshots", d, "flat")))).toEqual(flats);
      } finally {
        await s.close();
        await rm(root, { recursive: true, force: true });
      }
    });
  });

  describe("sys/mount", () => {
    test("tmpfs takes size= and mode=", async () => {
      await withMounted([{ type: "tmpfs", source: "tmpfs", options: ["size=1m", "mode=0710", "nosuid"] }], async (dir) => {
        expect(statSync(dir).mode & 0o7777).toBe(0o710);
        await expect(writeFile(join(dir, "big"), Buffer.alloc(2 * 1024 * 1024))).rejects.toMatchObject({ code: "ENOSPC" });
      });
    });

    test("a read-only bind refuses writes; the mount point is gone afterwards, also after an error", async () => {
      const source = await mkdtemp(join(tmpdir(), "buildkit-bind-"));
      let seen = "";
      try {
        const failing = withMounted([{ type: "bind", source, options: ["rbind", "ro"] }], async (dir) => {
          seen = dir;
          await writeFile(join(dir, "x"), "x");
        });
        await expect(failing).rejects.toMatchObject({ code: "EROFS" });
        await failing.catch(() => {});
        expect(seen).not.toBe("");
        expect(existsSync(seen)).toBe(false);
        expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(seen);
      } finally {
        await rm(source, { recursive: true, force: true });
      }
    });

    test("failures read `mount TYPE on TARGET: ERRNO (n)`; unmount ignores not-mounted only when asked", async () => {
      const target = await mkdtemp(join(tmpdir(), "buildkit-target-"));
      try {
        const bad: Mount = { type: "overlay", source: "overlay", options: [`lowerdir=${target}/no:${target}/such`] };
        expect(() => mountAll([bad], target)).toThrow(new RegExp(`^mount overlay on ${target}: ENOENT \\(2\\)$`));
        expect(() => unmount(target)).toThrow(/^unmount .*: EINVAL \(22\)$/);
        unmount(target, { ignoreNotMounted: true });
        unmount(join(target, "missing"), { ignoreNotMounted: true, detach: true });
      } finally {
        await rm(target, { recursive: true, force: true });
      }
    });
  });
}
