#!/usr/bin/env bun
// Fixed cost of one exec step: Executor.run of /bin/true in a busybox rootfs against a bare
// `runc run` of a bundle made by hand (same spec, rootfs dir used in place, no hosts/resolv.conf
// binds), so the executor's own overhead (mounts, files, user lookup, clean-up) is visible; and
// the bare run again from the sealed in-memory copy of runc the executor uses
// (executor/sealed-binary.ts: `runc init` then skips cloning and re-executing itself).
// Usage: bun bench/runc-exec.ts [--runs N]   (default 30 timed runs after 3 warm-ups; needs root)
// Prints figures only; it asserts nothing about them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProcessMeta } from "../src/core/worker/executor.ts";
import { createRuncExecutor, findRunc, sweepRunc } from "../src/backends/standalone/executor/index.ts";
import { runtimeExecutable } from "../src/backends/standalone/executor/sealed-binary.ts";
import { buildSpec } from "../src/backends/standalone/executor/spec.ts";
import { mountPointsUnder } from "../src/backends/standalone/sys/mountinfo.ts";
import { makeBusyboxRootfs } from "../test/fixtures/busybox-rootfs.ts";

const WARMUPS = 3;
const runsFlag = process.argv.indexOf("--runs");
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 30;
if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs takes a positive integer");

const meta: ProcessMeta = { args: ["/bin/true"], env: [], cwd: "/", user: "", network: "none", security: "sandbox" };
const io = { stdout: () => {}, stderr: () => {} };

/** Wall-clock milliseconds of each timed call of fn. */
async function time(fn: (i: number) => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < WARMUPS + runs; i++) {
    const started = performance.now();
    await fn(i);
    if (i >= WARMUPS) times.push(performance.now() - started);
  }
  return times;
}

function at(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

function summary(label: string, times: readonly number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const f = (q: number) => at(sorted, q).toFixed(1).padStart(6);
  return `${label.padEnd(34)} min ${f(0)} ms  median ${f(0.5)} ms  p90 ${f(0.9)} ms`;
}

async function executorRuns(rootfs: string, state: string): Promise<number[]> {
  const executor = createRuncExecutor({ root: state });
  const root = [{ type: "bind", source: rootfs, options: ["rbind", "rw"] }];
  return time(async () => {
    const { exitCode } = await executor.run({ root, mounts: [], meta, io }, new AbortController().signal);
    if (exitCode !== 0) throw new Error(`/bin/true exited ${exitCode}`);
  });
}

/** Bare `runc run`s of a hand-made bundle, from the binary and from its sealed copy, alternating. */
async function bareRuns(rootfs: string, base: string): Promise<{ plain: number[]; sealed: number[] }> {
  const runc = findRunc();
  const bundle = join(base, "bare-bundle");
  mkdirSync(bundle);
  const spec = buildSpec({ meta, user: { uid: 0, gid: 0, additionalGids: [] }, rootPath: rootfs, rootReadonly: false, hostname: "buildkitsandbox", mounts: [] });
  writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
  const state = join(base, "bare-state");
  const once = async (exe: string, id: string) => {
    const proc = Bun.spawn([exe, "--root", state, "run", "--bundle", bundle, id], { argv0: runc, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    const code = await proc.exited;
    if (code !== 0) throw new Error(`runc run exited ${code}: ${await new Response(proc.stderr).text()}`);
  };
  const plain: number[] = [];
  const sealed = await time(async (i) => {
    const started = performance.now();
    await once(runc, `plain-${i}`);
    if (i >= WARMUPS) plain.push(performance.now() - started);
    await once(runtimeExecutable(runc), `sealed-${i}`);
  });
  // time() measured both runs of each round: take the plain one back out.
  return { plain, sealed: sealed.map((both, i) => both - (plain[i] ?? 0)) };
}

if (process.getuid?.() !== 0) {
  console.log("bench/runc-exec.ts needs root (runc and mounts): skipped");
  process.exit(0);
}
const base = mkdtempSync(join(tmpdir(), "buildkit-bench-runc-"));
try {
  const rootfs = join(base, "rootfs");
  makeBusyboxRootfs(rootfs);
  const { plain: bare, sealed } = await bareRuns(rootfs, base);
  const executor = await executorRuns(rootfs, join(base, "state"));
  console.log(`${runs} runs of /bin/true in a busybox rootfs, after ${WARMUPS} warm-ups`);
  console.log(summary("bare runc run (hand-made bundle)", bare));
  console.log(summary("same, runc from a sealed memfd", sealed));
  console.log(summary("Executor.run", executor));
  const median = (t: number[]) => at([...t].sort((a, b) => a - b), 0.5);
  console.log(`executor overhead over the sealed bare run (median difference): ${(median(executor) - median(sealed)).toFixed(1)} ms`);
} finally {
  await sweepRunc(join(base, "state"));
  if (mountPointsUnder(base).length === 0) rmSync(base, { recursive: true, force: true });
}
