#!/usr/bin/env bun
// Start-up time of `buildkit --version`: the compiled binary against `bun src/cmd/main.ts`.
// Usage: bun bench/startup.ts [--runs N]   (default 30 timed runs, after 3 warm-ups each)
// Builds dist/buildkit-<host> first when it is missing or older than the sources. Prints
// figures only; it asserts nothing about them.
import { statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { buildTarget, outputPath, TARGETS } from "../scripts/build-binaries.ts";
import type { Target } from "../scripts/build-binaries.ts";

const root = resolve(import.meta.dir, "..");
const WARMUPS = 3;
const runsFlag = process.argv.indexOf("--runs");
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 30;
if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs takes a positive integer");

function hostTarget(): Target {
  const name = `${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;
  const target = TARGETS.find((t) => t === name);
  if (!target) throw new Error(`no binary target for this machine (${name})`);
  return target;
}

const mtime = (path: string) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;

/** The newest modification time among the files a binary is built from. */
function sourcesMtime(): number {
  let newest = mtime(join(root, "package.json"));
  for (const file of new Bun.Glob("src/**/*.{ts,js,json}").scanSync(root)) newest = Math.max(newest, mtime(join(root, file)));
  return newest;
}

async function binary(): Promise<string> {
  const target = hostTarget();
  const path = outputPath(target);
  if (mtime(path) > sourcesMtime()) return path;
  console.log(`building ${relative(root, path)} ...`);
  return buildTarget(target);
}

/** Wall-clock milliseconds of each timed run of cmd (spawn to exit). */
function time(cmd: string[]): number[] {
  const times: number[] = [];
  for (let i = 0; i < WARMUPS + runs; i++) {
    const started = performance.now();
    const proc = Bun.spawnSync(cmd, { cwd: root, stdout: "pipe", stderr: "pipe" });
    const ms = performance.now() - started;
    if (proc.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${proc.exitCode}: ${proc.stderr.toString().trim()}`);
    if (i >= WARMUPS) times.push(ms);
  }
  return times;
}

function summary(label: string, times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  // Nearest-rank quantile: the smallest time with at least q of the runs at or below it.
  const at = (q: number) => (sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN).toFixed(1);
  return `${label.padEnd(42)} min ${at(0).padStart(6)} ms  median ${at(0.5).padStart(6)} ms  p90 ${at(0.9).padStart(6)} ms`;
}

const bin = await binary();
const bun = join(root, "node_modules/.bin/bun");
console.log(`buildkit --version, ${runs} runs after ${WARMUPS} warm-ups, bun ${Bun.version}, ${process.platform}-${process.arch}`);
console.log(summary(`${relative(root, bin)} --version`, time([bin, "--version"])));
console.log(summary("bun src/cmd/main.ts --version", time([bun, "src/cmd/main.ts", "--version"])));
