#!/usr/bin/env bun
// The standalone and containerd workers side by side (as root; containerd is Debian's, started
// here with a temporary root, state and socket): a 10-step exec chain built cold (fresh state
// directory and, for containerd, a fresh namespace) and then fully cached, with the compiled
// binary, daemonless. Prints figures; asserts nothing.
// Usage: bun bench/workers.ts [--runs N]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINUX_AMD64, local, type State } from "../src/core/llb/index.ts";
import { makeBusyboxRootfs } from "../scripts/lib/busybox-rootfs.ts";
import { startContainerd } from "../test/fixtures/containerd.ts";
import { binary, median, summary } from "./lib/binary.ts";

const runsFlag = process.argv.indexOf("--runs");
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 5;
const CACHED_PER_RUN = 3;
const work = mkdtempSync(join(tmpdir(), "bench-workers-"));
const rootfs = join(work, "rootfs");
makeBusyboxRootfs(rootfs);
const bin = await binary();
const platform = { ...LINUX_AMD64, architecture: process.arch === "arm64" ? "arm64" : "amd64" };
const containerd = await startContainerd();

function build(def: State, root: string, workerArgs: readonly string[]): number {
  const args = [bin, "build", "--root", root, "--progress", "quiet", "--local", `rootfs=${rootfs}`, ...workerArgs];
  const t0 = performance.now();
  const p = Bun.spawnSync(args, { stdin: def.marshal({ platform }), stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t0;
  if (p.exitCode !== 0) throw new Error(`build failed: ${p.stderr.toString().trim().split("\n").at(-1)}`);
  return ms;
}

interface Figures {
  readonly cold: number[];
  readonly cached: number[];
}

/** RUNS cold builds of the chain, each on fresh state, each followed by CACHED_PER_RUN cached ones. */
function measure(chain: State, workerArgs: (run: number) => readonly string[]): Figures {
  const cold: number[] = [];
  const cached: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const root = mkdtempSync(join(work, "state-"));
    cold.push(build(chain, root, workerArgs(r)));
    for (let c = 0; c < CACHED_PER_RUN; c++) cached.push(build(chain, root, workerArgs(r)));
    rmSync(root, { recursive: true, force: true });
  }
  return { cold, cached };
}

try {
  let chain = local("rootfs");
  for (let i = 0; i < 10; i++) chain = chain.run({ args: ["sh", "-c", `echo ${i} >> /steps`] }).root();
  const workers: [string, Figures][] = [
    ["standalone", measure(chain, () => ["--worker", "standalone"])],
    ["containerd", measure(chain, (r) => ["--worker", "containerd", "--containerd-address", containerd.address, "--containerd-namespace", `bench-${r}`])],
  ];
  console.log(`10-step exec chain, daemonless, ${RUNS} cold runs (fresh state each) and ${RUNS * CACHED_PER_RUN} fully cached runs per worker`);
  for (const [name, f] of workers) {
    console.log(summary(`${name}: cold build, whole command`, f.cold));
    console.log(summary(`${name}: cached rebuild, whole command`, f.cached));
  }
  const col = (s: string) => s.padStart(14);
  console.log(`\n${"median".padEnd(34)}${workers.map(([n]) => col(n)).join("")}`);
  const row = (label: string, value: (f: Figures) => number) => console.log(`${label.padEnd(34)}${workers.map(([, f]) => col(`${value(f).toFixed(0)} ms`)).join("")}`);
  row("cold build", (f) => median(f.cold));
  row("fully cached rebuild", (f) => median(f.cached));
  row("per step (cold - cached) / 10", (f) => (median(f.cold) - median(f.cached)) / 10);
} finally {
  await containerd.stop();
  rmSync(work, { recursive: true, force: true });
}
