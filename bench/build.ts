#!/usr/bin/env bun
// `buildkit build` end to end with the compiled binary (as root: runc and overlayfs):
//  (a) a 10-step exec chain cold and fully cached, per-step cost against a bare `runc run`;
//  (b) eight parallel `sleep 1` steps, wall time;
//  (c) a local source of 10,000 files / ~100 MB copied into a result: first build, after
//      touching one file, unchanged.
// Prints figures; asserts nothing. Usage: bun bench/build.ts [--runs N] [--only a,b,c]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copy, LINUX_AMD64, local, scratch, type State } from "../src/core/llb/index.ts";
import { makeBusyboxRootfs } from "../scripts/lib/busybox-rootfs.ts";
import { binary, median, summary } from "./lib/binary.ts";

const runsFlag = process.argv.indexOf("--runs");
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 5;
const onlyFlag = process.argv.indexOf("--only");
/** `--only a,b,c`: the sections to run (default all). */
const only = onlyFlag > 0 ? new Set((process.argv[onlyFlag + 1] ?? "").split(",")) : undefined;
const runs = (section: string) => only === undefined || only.has(section);
const work = mkdtempSync(join(tmpdir(), "bench-build-"));
const rootfs = join(work, "rootfs");
makeBusyboxRootfs(rootfs);
const bin = await binary();
const platform = { ...LINUX_AMD64, architecture: process.arch === "arm64" ? "arm64" : "amd64" };

function build(def: State, root: string, extra: string[] = [], locals: Record<string, string> = {}): number {
  const args = [bin, "build", "--root", root, "--progress", "quiet", "--local", `rootfs=${rootfs}`, ...Object.entries(locals).flatMap(([k, v]) => ["--local", `${k}=${v}`]), ...extra];
  const t0 = performance.now();
  const p = Bun.spawnSync(args, { stdin: def.marshal({ platform }), stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t0;
  if (p.exitCode !== 0) throw new Error(`build failed: ${p.stderr.toString().trim().split("\n").at(-1)}`);
  return ms;
}

const freshRoot = () => mkdtempSync(join(work, "state-"));
const sh = (script: string) => ({ args: ["sh", "-c", script] });

try {
  if (runs("a")) {
  let chain = local("rootfs");
  for (let i = 0; i < 10; i++) chain = chain.run(sh(`echo ${i} >> /steps`)).root();
  const cold: number[] = [];
  const cached: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const root = freshRoot();
    cold.push(build(chain, root));
    for (let c = 0; c < 3; c++) cached.push(build(chain, root));
    rmSync(root, { recursive: true, force: true });
  }
  const bare = bareRunc(RUNS * 4);
  console.log(`(a) 10-step exec chain, ${RUNS} cold runs (fresh state dir each) and ${cached.length} fully cached runs`);
  console.log(summary("cold build, whole command", cold));
  console.log(summary("fully cached rebuild, whole command", cached));
  console.log(summary("bare `runc run` of one step", bare));
  const perStep = (median(cold) - median(cached)) / 10;
  console.log(`    cold per-step cost ≈ ${perStep.toFixed(1)} ms (cold minus cached, / 10) = ${(perStep / median(bare)).toFixed(2)}x a bare runc run`);
  }

  // (b) eight parallel sleeps: the base is cached, a nonce makes only the sleeps run.
  if (runs("b")) {
  const root = freshRoot();
  const parallel: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const sleeps = Array.from({ length: 8 }, (_, i) => local("rootfs").run(sh(`sleep 1; echo ${i}-${r} > /s${i}`)).root());
    let gather = copy(sleeps[0]!, "/s0", "/s0");
    for (let i = 1; i < 8; i++) gather = gather.copy(sleeps[i]!, `/s${i}`, `/s${i}`);
    parallel.push(build(scratch().file(gather), root));
  }
  console.log("(b) eight parallel `sleep 1` steps (base cached; the steps and one file op gathering their results run)");
  console.log(summary("wall time, whole command", parallel));
  }

  // (c) a big local source
  if (runs("c")) {
  const big = join(work, "big");
  const bytes = makeTree(big, 10_000, 10_000);
  const copyAll = scratch().file(copy(local("big"), "/", "/"));
  const croot = freshRoot();
  const first = build(copyAll, croot, [], { big });
  const file = join(big, "d0/f0");
  utimesSync(file, new Date(), new Date());
  const touched = build(copyAll, croot, [], { big });
  writeFileSync(join(big, "d1/f1"), "changed");
  const changed = build(copyAll, croot, [], { big });
  const unchanged = Array.from({ length: RUNS }, () => build(copyAll, croot, [], { big }));
  console.log(`(c) local source: 10,000 files, ${(bytes / 1e6).toFixed(0)} MB, copied into a result`);
  console.log(`    first build ${first.toFixed(0)} ms (${(bytes / 1e6 / (first / 1000)).toFixed(0)} MB/s), after touching one file ${touched.toFixed(0)} ms (cached: same content), after changing one file ${changed.toFixed(0)} ms`);
  console.log(summary("unchanged, whole command", unchanged));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** Times `runc run` of `sh -c 'echo 0 >> /steps'` in a bundle made by hand (no network namespace). */
function bareRunc(n: number): number[] {
  const bundle = join(work, "bundle");
  mkdirSync(bundle);
  Bun.spawnSync(["cp", "-a", rootfs, join(bundle, "rootfs")]);
  Bun.spawnSync(["runc", "spec"], { cwd: bundle });
  const spec = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
  spec.process.terminal = false;
  spec.process.args = ["sh", "-c", "echo 0 >> /steps"];
  spec.root.readonly = false;
  // Like our default (sandbox) network, which shares the host's as BuildKit does without CNI.
  spec.linux.namespaces = spec.linux.namespaces.filter((n: { type: string }) => n.type !== "network");
  writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const p = Bun.spawnSync(["runc", "--root", join(work, "runc-state"), "run", `bench-${i}`], { cwd: bundle, stdout: "pipe", stderr: "pipe" });
    times.push(performance.now() - t0);
    if (p.exitCode !== 0) throw new Error(`runc run: ${p.stderr.toString()}`);
  }
  return times;
}

/** n files of about `size` bytes each, 100 per directory, pseudo-random content. */
function makeTree(dir: string, n: number, size: number): number {
  let seed = 42;
  const chunk = new Uint8Array(size);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const sub = join(dir, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    for (let b = 0; b < size; b += 4) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      chunk[b] = seed & 255;
      chunk[b + 1] = (seed >> 8) & 255;
      chunk[b + 2] = (seed >> 16) & 255;
      chunk[b + 3] = (seed >> 24) & 255;
    }
    writeFileSync(join(sub, `f${i % 100}`), chunk);
    total += size;
  }
  return total;
}
