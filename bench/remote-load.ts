#!/usr/bin/env bun
// A bounded loopback load test of `buildkit serve` driven by our client (as root: runc and
// overlayfs): CLIENTS concurrent clients each run BUILDS remote builds over a unix socket,
// cached and uncached mixed (every other build is one graph all clients share; the rest are
// unique), each with a local rootfs and context sent through the session and a local export.
// Prints failures, wall time, build latency, daemon RSS before and after, and what is left
// afterwards (mounts, runc containers, daemon child processes); exits 1 on any failure or leak.
// Usage: bun bench/remote-load.ts [--clients 20] [--builds 5]
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINUX_AMD64, local, scratch, type State } from "../src/core/llb/index.ts";
import { makeBusyboxRootfs } from "../scripts/lib/busybox-rootfs.ts";
import { binary, median } from "./lib/binary.ts";

const flag = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const CLIENTS = flag("clients", 20);
const BUILDS = flag("builds", 5);
const BUILD_TIMEOUT_MS = 180_000;

const work = mkdtempSync(join(tmpdir(), "bench-remote-"));
const rootfs = join(work, "rootfs");
const ctx = join(work, "ctx");
const socket = join(work, "buildkitd.sock");
const state = join(work, "state");
makeBusyboxRootfs(rootfs);
mkdirSync(ctx);
for (let i = 0; i < 200; i++) writeFileSync(join(ctx, `f${i}.txt`), `file ${i}\n`.repeat(50));
const bin = await binary();
const platform = { ...LINUX_AMD64, architecture: process.arch === "arm64" ? "arm64" : "amd64" };

function graph(script: string): Uint8Array {
  const s: State = local("rootfs")
    .run({ args: ["sh", "-c", script], mounts: [{ dest: "/out", source: scratch() }, { dest: "/ctx", source: local("ctx"), readonly: true }] })
    .getMount("/out")!;
  return s.marshal({ platform });
}
const shared = graph("ls /ctx | wc -l > /out/n; echo shared > /out/kind");

const rss = (pid: number) => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const mounts = () => readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((m) => m.startsWith(work));
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    let stat = "";
    try {
      stat = readFileSync(`/proc/${d}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
  }
  const out: number[] = [];
  const todo = [pid];
  for (let p = todo.pop(); p !== undefined; p = todo.pop()) for (const c of children.get(p) ?? []) out.push(c), todo.push(c);
  return out;
}
function runcContainers(): string[] {
  const p = Bun.spawnSync(["runc", "--root", join(state, "executor/runc"), "list", "-q"]);
  return p.stdout.toString().split("\n").filter(Boolean);
}

const daemon = Bun.spawn([bin, "serve", "--root", state, "--addr", `unix://${socket}`], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
let failed = 0;
try {
  for (let i = 0; i < 300 && !existsSync(socket); i++) await Bun.sleep(100);
  if (!existsSync(socket)) throw new Error("buildkit serve did not start");
  const rssBefore = rss(daemon.pid);

  const latencies: number[] = [];
  const errors: string[] = [];
  const build = async (c: number, b: number): Promise<void> => {
    const def = (c + b) % 2 === 0 ? shared : graph(`echo client-${c}-build-${b}-${Date.now()} > /out/kind; ls /ctx | wc -l > /out/n`);
    const out = join(work, "out", `${c}-${b}`);
    const t0 = performance.now();
    const p = Bun.spawn([bin, "build", "--addr", `unix://${socket}`, "--progress", "quiet", "--root", join(work, "client"), "--local", `rootfs=${rootfs}`, "--local", `ctx=${ctx}`, "--output", `type=local,dest=${out}`], {
      stdin: new Blob([def]),
      stdout: "ignore",
      stderr: "pipe",
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), BUILD_TIMEOUT_MS);
    const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    clearTimeout(timer);
    latencies.push(performance.now() - t0);
    const n = existsSync(join(out, "n")) ? readFileSync(join(out, "n"), "utf8").trim() : "";
    if (code !== 0 || n !== "200") {
      failed++;
      errors.push(`client ${c} build ${b}: exit ${code}, ${stderr.trim().split("\n").at(-1) ?? ""}`);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    for (let b = 0; b < BUILDS; b++) await build(c, b);
  }));
  const wall = performance.now() - t0;
  await Bun.sleep(500);
  const rssAfter = rss(daemon.pid);
  const left = { mounts: mounts(), containers: runcContainers(), processes: descendants(daemon.pid) };

  console.log(`${CLIENTS} clients x ${BUILDS} builds: ${CLIENTS * BUILDS - failed} ok, ${failed} failed, ${(wall / 1000).toFixed(1)} s`);
  console.log(`build latency: median ${(median(latencies) / 1000).toFixed(2)} s, max ${(Math.max(...latencies) / 1000).toFixed(2)} s`);
  console.log(`daemon RSS: ${mib(rssBefore)} before, ${mib(rssAfter)} after`);
  console.log(`left over: ${left.mounts.length} mounts, ${left.containers.length} runc containers, ${left.processes.length} daemon child processes`);
  for (const e of errors.slice(0, 10)) console.log(`  ${e}`);
  if (failed > 0 || left.mounts.length + left.containers.length + left.processes.length > 0) process.exitCode = 1;
} finally {
  daemon.kill("SIGTERM");
  const timer = setTimeout(() => daemon.kill("SIGKILL"), 20_000);
  const code = await daemon.exited;
  clearTimeout(timer);
  const after = mounts();
  console.log(`daemon exited ${code}; mounts left after it stopped: ${after.length}`);
  if (after.length > 0) process.exitCode = 1;
  for (const m of after.reverse()) Bun.spawnSync(["umount", "-l", m]);
  rmSync(work, { recursive: true, force: true });
}
