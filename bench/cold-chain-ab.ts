#!/usr/bin/env bun
// Two binaries on the same cold 10-step chain (a busybox image from a local registry, pulled
// each run, then ten `echo >> /steps` steps), alternating A and B run by run so a noisy machine
// weighs on both alike, then one fully cached build of it each run. Whole-command wall time.
// Prints figures; asserts nothing. As root.
// Usage: bun bench/cold-chain-ab.ts --a PATH --b PATH [--runs N (default 15)]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINUX_AMD64, type State } from "../src/core/llb/index.ts";
import { startBusyboxRegistry, tenStepChain } from "./lib/busybox-registry.ts";
import { summary } from "./lib/binary.ts";

const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const bins = { A: flag("--a"), B: flag("--b") };
if (!bins.A || !bins.B) throw new Error("usage: bun bench/cold-chain-ab.ts --a PATH --b PATH [--runs N]");
const RUNS = Number(flag("--runs") ?? 15);
const work = mkdtempSync(join(tmpdir(), "bench-ab-"));
const platform = { ...LINUX_AMD64, architecture: process.arch === "arm64" ? "arm64" : "amd64" };

function build(bin: string, root: string, config: string, def: State): number {
  const t0 = performance.now();
  const p = Bun.spawnSync([bin, "build", "--root", root, "--config", config, "--progress", "quiet"], { stdin: def.marshal({ platform }), stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t0;
  if (p.exitCode !== 0) throw new Error(`${bin} build: ${p.stderr.toString().trim().split("\n").at(-1)}`);
  return ms;
}

const { registry, ref, config } = await startBusyboxRegistry(work);
try {
  const chain = tenStepChain(ref);
  const times = { A: { cold: [] as number[], cached: [] as number[] }, B: { cold: [] as number[], cached: [] as number[] } };
  for (let r = 0; r < RUNS; r++) {
    for (const side of r % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const)) {
      const root = mkdtempSync(join(work, `root-${side}-`));
      times[side].cold.push(build(bins[side] as string, root, config, chain));
      times[side].cached.push(build(bins[side] as string, root, config, chain));
      rmSync(root, { recursive: true, force: true });
    }
  }
  console.log(`A = ${bins.A}\nB = ${bins.B}\n${RUNS} runs each, alternating`);
  for (const side of ["A", "B"] as const) {
    console.log(summary(`${side} cold 10-step chain`, times[side].cold));
    console.log(summary(`${side} fully cached 10-step chain`, times[side].cached));
  }
} finally {
  await registry.stop();
  rmSync(work, { recursive: true, force: true });
}
