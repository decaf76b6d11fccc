#!/usr/bin/env bun
// Start-up time of `buildkit --version`: the compiled binary against `bun src/cmd/main.ts`.
// Usage: bun bench/startup.ts [--runs N]   (default 30 timed runs, after 3 warm-ups each)
// Builds dist/buildkit-<host> first when it is missing or older than the sources. Prints
// figures only; it asserts nothing about them.
import { join, relative } from "node:path";
import { binary, REPO as root, summary } from "./lib/binary.ts";

const WARMUPS = 3;
const runsFlag = process.argv.indexOf("--runs");
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 30;
if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs takes a positive integer");

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

const bin = await binary();
const bun = join(root, "node_modules/.bin/bun");
console.log(`buildkit --version, ${runs} runs after ${WARMUPS} warm-ups, bun ${Bun.version}, ${process.platform}-${process.arch}`);
console.log(summary(`${relative(root, bin)} --version`, time([bin, "--version"])));
console.log(summary("bun src/cmd/main.ts --version", time([bun, "src/cmd/main.ts", "--version"])));
