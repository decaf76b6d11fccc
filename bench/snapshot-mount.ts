#!/usr/bin/env bun
// Cost of the overlay snapshotter's hot path: an overlay mount + unmount through bun:ffi against
// spawning mount(8)/umount(8), and the metadata cost of prepare + commit (and remove).
// Usage (as root): bun bench/snapshot-mount.ts [--iterations N]   (default 200, after 10 warm-ups)
// Prints figures only; it asserts nothing about them.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOverlaySnapshotter } from "../src/backends/standalone/snapshotter.ts";
import type { OverlaySnapshotter } from "../src/backends/standalone/snapshotter.ts";
import { mountAll, unmount, withMounted } from "../src/backends/standalone/sys/mount.ts";
import type { Mount } from "../src/core/worker/mount.ts";

const WARMUPS = 10;
const flag = process.argv.indexOf("--iterations");
const iterations = flag > 0 ? Number(process.argv[flag + 1]) : 200;
if (!Number.isInteger(iterations) || iterations < 1) throw new Error("--iterations takes a positive integer");
if (process.getuid?.() !== 0) throw new Error("bench/snapshot-mount.ts needs root (it mounts overlayfs)");

/** Milliseconds of each timed run of fn (i counts warm-ups too, so names stay unique). */
async function time(fn: (i: number) => void | Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < WARMUPS + iterations; i++) {
    const started = performance.now();
    await fn(i);
    if (i >= WARMUPS) times.push(performance.now() - started);
  }
  return times;
}

function report(label: string, times: number[]): void {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const ms = (n: number) => `${n.toFixed(3)} ms`;
  console.log(`${label.padEnd(36)} mean ${ms(mean)}  p50 ${ms(at(0.5))}  p90 ${ms(at(0.9))}  (${times.length} runs)`);
}

function run(cmd: string[]): void {
  const proc = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${proc.exitCode}: ${proc.stderr.toString().trim()}`);
}

/** A committed chain of two layers and an active snapshot on it: an overlay with two lowers. */
async function setUp(s: OverlaySnapshotter): Promise<Mount> {
  let parent: string | undefined;
  for (const name of ["base", "middle"]) {
    await withMounted(await s.prepare(`${name}-key`, parent), async (dir) => {
      await Bun.write(join(dir, name), name);
    });
    await s.commit(name, `${name}-key`);
    parent = name;
  }
  const [overlay] = await s.prepare("bench", parent);
  if (overlay?.type !== "overlay") throw new Error("expected an overlay mount");
  return overlay;
}

async function bench(s: OverlaySnapshotter, target: string): Promise<void> {
  const overlay = await setUp(s);
  console.log(`overlay mount + unmount, ${overlay.options.length} options, 2 lower dirs:`);
  report("  bun:ffi mount(2) + umount2(2)", await time(() => {
    mountAll([overlay], target);
    unmount(target);
  }));
  report("  spawn mount(8) + umount(8)", await time(() => {
    run(["mount", "-t", "overlay", overlay.source, "-o", overlay.options.join(","), target]);
    run(["umount", target]);
  }));
  console.log("snapshotter metadata + directories:");
  report("  prepare + commit", await time(async (i) => {
    await s.prepare(`k${i}`, "middle");
    await s.commit(`n${i}`, `k${i}`);
  }));
  report("  remove (committed, empty)", await time((i) => s.remove(`n${i}`)));
}

const root = await mkdtemp(join(tmpdir(), "buildkit-bench-"));
const target = await mkdtemp(join(tmpdir(), "buildkit-bench-target-"));
const snapshotter = await createOverlaySnapshotter({ root });
try {
  await bench(snapshotter, target);
} finally {
  unmount(target, { detach: true, ignoreNotMounted: true });
  await snapshotter.close();
  await rm(target, { recursive: true, force: true });
  await rm(root, { recursive: true, force: true });
}
