#!/usr/bin/env bun
// `buildkit serve` against BuildKit v0.11.6's buildkitd, side by side in one run (as root):
// cached-solve round trips per second over a unix socket (Control.Solve of a fully cached
// definition, no session, sequential and 8 at once), and each daemon's RSS when idle and after
// the load. Both are driven by the same client (our gRPC client), so the figures compare the
// daemons. Prints figures; asserts nothing. Usage: bun bench/serve.ts [--solves N]
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect, type Channel } from "../src/api/grpc/client.ts";
import { ControlService } from "../src/api/grpc/services.ts";
import { LINUX_AMD64, mkfile, scratch } from "../src/core/llb/index.ts";
import { binary, REPO } from "./lib/binary.ts";

const solvesFlag = process.argv.indexOf("--solves");
const SOLVES = solvesFlag > 0 ? Number(process.argv[solvesFlag + 1]) : 200;
const BUILDKITD = resolve(REPO, "../shared/peers/buildkit-v0.11.6/buildkitd");
const work = mkdtempSync(join(tmpdir(), "bench-serve-"));
const platform = { ...LINUX_AMD64, architecture: process.arch === "arm64" ? "arm64" : "amd64" };
// Three file ops on scratch: no image, no local source, nothing to pull; cached after the first.
const definition = scratch()
  .file(mkfile("/a", 0o644, "a"))
  .file(mkfile("/b", 0o644, "b"))
  .file(mkfile("/c", 0o644, "c"))
  .marshal({ platform });

interface Daemon {
  readonly name: string;
  readonly pid: number;
  readonly addr: string;
  stop(): Promise<void>;
}

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
}

async function start(name: string, argv: (sock: string, root: string) => string[]): Promise<Daemon> {
  const dir = mkdtempSync(join(work, `${name}-`));
  const sock = join(dir, "d.sock");
  const proc = Bun.spawn(argv(sock, join(dir, "root")), { stdout: "ignore", stderr: "ignore" });
  const addr = `unix://${sock}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (existsSync(sock)) {
      const ch = connect(addr);
      const ok = await ch.unary(ControlService.methods.ListWorkers, {}).then(() => true, () => false);
      await ch.close();
      if (ok) break;
    }
    if (Date.now() > deadline) throw new Error(`${name} did not start`);
    await Bun.sleep(50);
  }
  return {
    name,
    pid: proc.pid,
    addr,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      // buildkitd may leave its own mounts under its root.
      for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n").reverse()) {
        const mount = line.split(" ")[4];
        if (mount?.startsWith(dir)) Bun.spawnSync(["umount", "-l", mount]);
      }
    },
  };
}

let refs = 0;
const solve = (ch: Channel) => ch.unary(ControlService.methods.Solve, { Ref: `bench${process.pid}x${refs++}`, Definition: definition });

async function roundTrips(d: Daemon): Promise<{ sequential: number; parallel: number; idle: number; loaded: number }> {
  const ch = connect(d.addr);
  try {
    await solve(ch); // the first solve makes the results; every later one is cached
    await Bun.sleep(500);
    const idle = rssKiB(d.pid);
    let t0 = performance.now();
    for (let i = 0; i < SOLVES; i++) await solve(ch);
    const sequential = SOLVES / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next++ < SOLVES) await solve(ch);
    }));
    const parallel = SOLVES / ((performance.now() - t0) / 1000);
    return { sequential, parallel, idle, loaded: rssKiB(d.pid) };
  } finally {
    await ch.close();
  }
}

try {
  const bin = await binary();
  const ours = await start("buildkit serve", (sock, root) => [bin, "serve", "--root", root, "--addr", `unix://${sock}`]);
  const a = await roundTrips(ours).finally(() => ours.stop());
  let b: typeof a | undefined;
  if (existsSync(BUILDKITD)) {
    const peer = await start("buildkitd", (sock, root) => [BUILDKITD, "--root", root, "--addr", `unix://${sock}`, "--oci-worker-gc=false", "--oci-worker-net", "host"]);
    b = await roundTrips(peer).finally(() => peer.stop());
  } else console.log(`(peer buildkitd not at ${BUILDKITD}: ours only)`);
  const row = (label: string, x: number, y: number | undefined, unit: string, higherBetter: boolean) =>
    console.log(`${label.padEnd(40)} ours ${x.toFixed(0).padStart(7)} ${unit}   buildkitd ${y === undefined ? "      -" : y.toFixed(0).padStart(7)} ${unit}   ${y === undefined ? "" : `ratio ${(higherBetter ? x / y : y / x).toFixed(2)}x (>1: ours better)`}`);
  console.log(`cached Control.Solve of a 3-op definition, ${SOLVES} solves each, unix socket`);
  row("round trips/s, one at a time", a.sequential, b?.sequential, "/s ", true);
  row("round trips/s, 8 at once", a.parallel, b?.parallel, "/s ", true);
  row("daemon RSS idle (after one solve)", a.idle / 1024, b && b.idle / 1024, "MiB", false);
  row("daemon RSS after the load", a.loaded / 1024, b && b.loaded / 1024, "MiB", false);
} finally {
  rmSync(work, { recursive: true, force: true });
}
