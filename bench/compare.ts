#!/usr/bin/env bun
// Issue 11's table in one run: our compiled binary (daemonless) against BuildKit v0.11.6
// (buildkitd + buildctl from ../shared/peers, started here), as root. Medians of --runs runs;
// ratio = ours / BuildKit (lower is better). Prints figures; asserts nothing.
// Usage: bun bench/compare.ts [--runs N] [--bin PATH (our binary; default: built from here)]
//   [--only GROUP[,GROUP...]] (rows of these groups only: copy, exec, cached, version)
//   [--no-peer] (ours only, no buildkitd) [--reset-by-delete] (see RESET_BY_DELETE) [--work-dir DIR] (see work) [--oci-runtime runc|crun|PATH] (ours: that runtime, not the default)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { copy, image, LINUX_AMD64, local, scratch, type State } from "../src/core/llb/index.ts";
import { startBusyboxRegistry, tenStepChain } from "./lib/busybox-registry.ts";
import { binary, median, REPO } from "./lib/binary.ts";

const runsFlag = process.argv.indexOf("--runs");
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 3;
const GROUPS = ["copy", "exec", "cached", "version"] as const;
const onlyFlag = process.argv.indexOf("--only");
const only = new Set(onlyFlag > 0 ? (process.argv[onlyFlag + 1] ?? "").split(",") : GROUPS);
for (const g of only) if (!(GROUPS as readonly string[]).includes(g)) throw new Error(`--only: unknown group ${g} (groups: ${GROUPS.join(", ")})`);
/**
 * How a round starts from an empty cache. By default each side gets a new state directory and the
 * old ones are deleted only at the end: deleting the last round's 20,000+ inodes just before a
 * first build makes ext4 without a journal skip them while allocating new ones (the kernel's
 * recently_deleted check), which both sides then pay for in a way no user's first build does.
 * --reset-by-delete deletes between rounds instead (ours: the root; BuildKit: prune --all).
 */
const RESET_BY_DELETE = process.argv.includes("--reset-by-delete");
const wanted = (group: (typeof GROUPS)[number]) => only.has(group);
const PEER = resolve(REPO, "../shared/peers/buildkit-v0.11.6");
/**
 * Where both sides keep their state roots and the context: --work-dir, default /var/tmp (disk,
 * like /var/lib where build hosts keep state). Not /tmp: on this shared machine every test run
 * creates and deletes thousands of files there, and ext4 without a journal skips recently
 * deleted inodes when allocating near them (first build 3.2 s in /tmp, 1.0 s in /var/tmp, same
 * disk, same binary); the choice moves both sides alike.
 */
const workFlag = process.argv.indexOf("--work-dir");
const work = mkdtempSync(join(workFlag > 0 ? (process.argv[workFlag + 1] ?? "") : existsSync("/var/tmp") ? "/var/tmp" : tmpdir(), "bench-compare-"));
console.log(`state roots and context under ${work}`);
const platform = { ...LINUX_AMD64, architecture: process.arch === "arm64" ? "arm64" : "amd64" };
const sh = (script: string) => ({ args: ["sh", "-c", script] });

interface Side {
  readonly name: string;
  /** Runs one build of def; returns the wall time in ms. */
  build(def: State, locals?: Record<string, string>): number;
  /** Forget every cached result (a fresh state). */
  reset(): Promise<void>;
  version(): number;
  stop(): Promise<void>;
}

function timed(argv: string[], stdin?: Uint8Array): number {
  const t0 = performance.now();
  const p = Bun.spawnSync(argv, { stdin: stdin ?? "ignore", stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t0;
  if (p.exitCode !== 0) throw new Error(`${argv.slice(0, 2).join(" ")}: ${p.stderr.toString().trim().split("\n").at(-1)}`);
  return ms;
}

const localArgs = (locals: Record<string, string>) => Object.entries(locals).flatMap(([k, v]) => ["--local", `${k}=${v}`]);

async function ours(config: string): Promise<Side> {
  const binFlag = process.argv.indexOf("--bin");
  const bin = binFlag > 0 ? (process.argv[binFlag + 1] ?? "") : await binary();
  let root = mkdtempSync(join(work, "ours-"));
  const runtimeFlag = process.argv.indexOf("--oci-runtime");
  const runtime = runtimeFlag > 0 ? ["--oci-runtime", process.argv[runtimeFlag + 1] ?? ""] : [];
  return {
    name: "ours",
    build: (def, locals = {}) => timed([bin, "build", "--root", root, "--config", config, "--progress", "quiet", ...runtime, ...localArgs(locals)], def.marshal({ platform })),
    async reset() {
      if (RESET_BY_DELETE) rmSync(root, { recursive: true, force: true });
      root = mkdtempSync(join(work, "ours-"));
    },
    version: () => timed([bin, "--version"]),
    async stop() {},
  };
}

interface PeerDaemon {
  readonly dir: string;
  readonly addr: string;
  readonly proc: Bun.Subprocess;
}

async function startPeer(config: string): Promise<PeerDaemon> {
  const dir = mkdtempSync(join(work, "peer-"));
  const sock = join(dir, "d.sock");
  const addr = `unix://${sock}`;
  const proc = Bun.spawn([join(PEER, "buildkitd"), "--root", join(dir, "root"), "--addr", addr, "--config", config, "--oci-worker-gc=false", "--oci-worker-net", "host"], { stdout: "ignore", stderr: "ignore" });
  for (const deadline = Date.now() + 30_000; ; await Bun.sleep(100)) {
    if (existsSync(sock) && Bun.spawnSync([join(PEER, "buildctl"), "--addr", addr, "debug", "workers"]).exitCode === 0) break;
    if (Date.now() > deadline) throw new Error("buildkitd did not start");
  }
  return { dir, addr, proc };
}

/** Stops buildkitd and unmounts what it left; its directory stays (see RESET_BY_DELETE). */
async function stopPeer(d: PeerDaemon): Promise<void> {
  d.proc.kill("SIGTERM");
  await d.proc.exited;
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n").reverse()) {
    const mount = line.split(" ")[4];
    if (mount?.startsWith(d.dir)) Bun.spawnSync(["umount", "-l", mount]);
  }
}

async function peer(config: string): Promise<Side> {
  let daemon = await startPeer(config);
  const ctl = (...args: string[]) => [join(PEER, "buildctl"), "--addr", daemon.addr, ...args];
  return {
    name: "BuildKit",
    build: (def, locals = {}) => timed(ctl("build", ...localArgs(locals)), def.marshal({ platform })),
    async reset() {
      if (RESET_BY_DELETE) {
        timed(ctl("prune", "--all"));
        return;
      }
      await stopPeer(daemon);
      daemon = await startPeer(config);
    },
    version: () => timed([join(PEER, "buildctl"), "--version"]),
    stop: () => stopPeer(daemon),
  };
}

/** n files of `size` pseudo-random bytes, 100 per directory. */
function makeTree(dir: string, n: number, size: number): void {
  let seed = 42;
  const chunk = new Uint8Array(size);
  for (let i = 0; i < n; i++) {
    const sub = join(dir, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    for (let b = 0; b < size; b++) chunk[b] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    writeFileSync(join(sub, `f${i % 100}`), chunk);
  }
}

type Row = { label: string; target: string; ours: number[]; peer: number[] };

async function measure(side: Side, ref: string, big: string, row: (label: string) => number[]): Promise<void> {
  const copyAll = scratch().file(copy(local("big"), "/", "/"));
  const chain = tenStepChain(ref);
  for (let r = 0; r < RUNS; r++) {
    await side.reset();
    if (wanted("copy")) {
      const changed = join(big, "d1/f1");
      writeFileSync(changed, `run ${r} ${side.name}`);
      row("COPY 10,000 files / 100 MB, first build").push(side.build(copyAll, { big }));
      writeFileSync(changed, `run ${r} ${side.name} changed`);
      row("same, one file changed").push(side.build(copyAll, { big }));
      row("same, unchanged").push(side.build(copyAll, { big }));
    }
    if (wanted("exec")) row("cold 10-step chain").push(side.build(chain));
    else if (wanted("cached")) side.build(chain);
    if (wanted("cached")) for (let c = 0; c < 3; c++) row("fully cached 10-step chain, registry image").push(side.build(chain));
    if (wanted("exec")) {
      // the image is already pulled by the chain above: the sleeps' own steps are cold
      const sleeps = Array.from({ length: 8 }, (_, i) => image(ref).run(sh(`sleep 1; echo ${i}-${r}-${side.name} > /s${i}`)).root());
      let gather = copy(sleeps[0]!, "/s0", "/s0");
      for (let i = 1; i < 8; i++) gather = gather.copy(sleeps[i]!, `/s${i}`, `/s${i}`);
      row("eight parallel `sleep 1` steps, cold").push(side.build(scratch().file(gather)));
    }
    if (wanted("version")) for (let v = 0; v < 3; v++) row("--version").push(side.version());
  }
}

const targets: Record<string, string> = {
  "COPY 10,000 files / 100 MB, first build": "≤ 2000 ms",
  "same, one file changed": "≤ 350 ms",
  "same, unchanged": "≤ 95 ms",
  "fully cached 10-step chain, registry image": "≤ 40 ms",
  "cold 10-step chain": "≤ 0.5x",
  "eight parallel `sleep 1` steps, cold": "≤ 1150 ms",
  "--version": "≤ 20 ms",
};

const { registry, ref, config } = await startBusyboxRegistry(work);
try {
  const big = join(work, "big");
  if (wanted("copy")) {
    makeTree(big, 10_000, 10_000);
    Bun.spawnSync(["sync"]); // the tree's 100 MB written back before the first side's first build
  }
  const rows = new Map<string, Row>();
  const rowOf = (which: "ours" | "peer") => (label: string) => {
    const row = rows.get(label) ?? { label, target: targets[label] ?? "", ours: [], peer: [] };
    rows.set(label, row);
    return row[which];
  };
  const a = await ours(config);
  await measure(a, ref, big, rowOf("ours")).finally(() => a.stop());
  if (process.argv.includes("--no-peer")) console.log("(--no-peer: ours only)");
  else if (existsSync(join(PEER, "buildkitd"))) {
    const b = await peer(config);
    await measure(b, ref, big, rowOf("peer")).finally(() => b.stop());
  } else console.log(`(no peer at ${PEER}: ours only)`);
  console.log(`medians of ${RUNS} runs (ms); ratio = ours / BuildKit`);
  console.log(`${"scenario".padEnd(46)} ${"ours".padStart(8)} ${"BuildKit".padStart(9)} ${"ratio".padStart(6)}  target`);
  for (const r of rows.values()) {
    const [x, y] = [median(r.ours), median(r.peer)];
    console.log(`${r.label.padEnd(46)} ${x.toFixed(0).padStart(8)} ${(Number.isNaN(y) ? "-" : y.toFixed(0)).padStart(9)} ${(x / y).toFixed(2).padStart(6)}  ${r.target}`);
  }
} finally {
  await registry.stop();
  rmSync(work, { recursive: true, force: true });
}
