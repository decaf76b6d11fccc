#!/usr/bin/env bun
// The cached path alone: a 10-step exec chain on a digest-pinned registry image, built once
// cold, then fully cached N times with the registry up and N times with it stopped (a cached
// build of a pinned image whose blobs are local must not need the network). Compiled binary,
// daemonless, as root. With several --bin, their runs interleave (an A/B comparison that a busy
// machine disturbs less). Wall and CPU (user + system) medians; asserts nothing.
// Usage: bun bench/cached.ts [--runs N] [--bin PATH ...] [--profile DIR (one --cpu-prof run)]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINUX_AMD64, type State } from "../src/core/llb/index.ts";
import { startBusyboxRegistry, tenStepChain } from "./lib/busybox-registry.ts";
import { binary, summary } from "./lib/binary.ts";

const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const RUNS = Number(flag("--runs") ?? 10);
const given = process.argv.flatMap((a, i) => (a === "--bin" ? [process.argv[i + 1] ?? ""] : []));
const bins = given.length > 0 ? given : [await binary()];
const profileDir = flag("--profile");
const work = mkdtempSync(join(tmpdir(), "bench-cached-"));
const platform = { ...LINUX_AMD64, architecture: process.arch === "arm64" ? "arm64" : "amd64" };

interface Timing { wall: number; cpu: number }
type Outcome = Timing | { error: string };

function build(bin: string, def: State, root: string, config: string, env: Record<string, string> = {}): Outcome {
  const t0 = performance.now();
  const argv = [bin, "build", "--root", root, "--config", config, "--progress", "quiet"];
  const p = Bun.spawnSync(argv, { stdin: def.marshal({ platform }), stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const wall = performance.now() - t0;
  if (p.exitCode !== 0) return { error: p.stderr.toString().trim().split("\n").at(-1) ?? `exit ${p.exitCode}` };
  return { wall, cpu: Number(p.resourceUsage?.cpuTime.total ?? NaN) / 1000 };
}

function report(label: string, outcomes: Outcome[]): void {
  const failed = outcomes.find((o): o is { error: string } => "error" in o);
  if (failed) return console.log(`${label}: FAILS (${failed.error})`);
  const ok = outcomes as Timing[];
  console.log(summary(`${label}, wall`, ok.map((o) => o.wall)));
  console.log(summary(`${label}, CPU`, ok.map((o) => o.cpu)));
}

const { registry, ref, config } = await startBusyboxRegistry(work);
let stopped = false;
try {
  const chain = tenStepChain(ref);
  const roots = bins.map(() => mkdtempSync(join(work, "state-")));
  const up = bins.map((): Outcome[] => []);
  const down = bins.map((): Outcome[] => []);
  bins.forEach((bin, b) => report(`[${b}] cold build`, [build(bin, chain, roots[b]!, config)]));
  for (let r = 0; r < RUNS; r++) bins.forEach((bin, b) => up[b]!.push(build(bin, chain, roots[b]!, config)));
  if (profileDir) {
    build(bins.at(-1)!, chain, roots.at(-1)!, config, { BUN_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` });
    console.log(`cpu profile of [${bins.length - 1}] in ${profileDir}`);
  }
  await registry.stop();
  stopped = true;
  for (let r = 0; r < RUNS; r++) bins.forEach((bin, b) => down[b]!.push(build(bin, chain, roots[b]!, config)));
  bins.forEach((bin, b) => {
    console.log(`[${b}] ${bin}`);
    report(`  fully cached, registry up`, up[b]!);
    report(`  fully cached, registry down`, down[b]!);
  });
} finally {
  if (!stopped) await registry.stop();
  rmSync(work, { recursive: true, force: true });
}
