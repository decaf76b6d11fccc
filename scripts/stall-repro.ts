// Reproduces the first-build stall against BuildKit v0.11.6's buildkitd: fresh copies of a
// 2,000-file context (plus a busybox rootfs) sent by `buildkit build --addr` in a loop, each
// under a timeout, counting the runs that hang. Usage: bun scripts/stall-repro.ts [RUNS] [--hog]
import { spawn, spawnSync, type Subprocess } from "bun";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LINUX_AMD64, local, scratch } from "../src/core/llb/index.ts";
import { makeBusyboxRootfs } from "./lib/busybox-rootfs.ts";

const ROOT = resolve(import.meta.dir, "..");
const BUILDKITD = resolve(ROOT, "../shared/peers/buildkit-v0.11.6/buildkitd");
const runs = Number(process.argv[2] ?? 20);
const hog = process.argv.includes("--hog");
const dir = mkdtempSync(join(tmpdir(), "stall-"));
const sock = join(dir, "bk.sock");
const procs: Subprocess[] = [];
let bk: Subprocess | undefined;

function cleanup(): void {
  for (const p of procs) p.kill("SIGKILL");
  if (bk) {
    bk.kill("SIGTERM");
  }
}

try {
  const rootfs = join(dir, "rootfs");
  mkdirSync(rootfs);
  makeBusyboxRootfs(rootfs);
  const ctx = join(dir, "ctx");
  for (let d = 0; d < 20; d++) {
    mkdirSync(join(ctx, `d${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(ctx, `d${d}`, `f${f}`), Buffer.alloc(4096, `${d}-${f}-`));
  }
  const def = local("rootfs")
    .run({ args: ["sh", "-c", "ls -R /ctx | wc -l > /out/n"], mounts: [{ dest: "/out", source: scratch() }, { dest: "/ctx", source: local("ctx"), readonly: true }] })
    .getMount("/out")!
    .marshal({ platform: LINUX_AMD64 });
  bk = spawn([BUILDKITD, "--root", join(dir, "root"), "--addr", `unix://${sock}`, "--debugaddr", "127.0.0.1:6071", "--oci-worker-net", "host", "--oci-worker-gc=false"], {
    stdout: "ignore",
    stderr: Bun.file(join(dir, "bk.log")),
  });
  while (!existsSync(sock)) {
    if (bk.exitCode !== null) throw new Error("buildkitd exited");
    await Bun.sleep(100);
  }
  if (hog) for (let i = 0; i < 2; i++) procs.push(spawn(["sh", "-c", "while :; do :; done"]));
  let stalls = 0;
  let fails = 0;
  for (let i = 0; i < runs; i++) {
    const copy = join(dir, `copy${i}`);
    cpSync(ctx, copy, { recursive: true });
    const t0 = Date.now();
    const p = spawn([process.execPath, join(ROOT, "src/cmd/main.ts"), "build", "--addr", `unix://${sock}`, "--progress", "rawjson", "--local", `rootfs=${rootfs}`, "--local", `ctx=${copy}`], {
      stdin: new Blob([def]),
      stdout: "ignore",
      stderr: "pipe",
      env: { ...process.env, BUILDKIT_HOST: "", NO_COLOR: "1", BUILDKIT_TS_STALL_DEBUG: process.env.BUILDKIT_TS_STALL_DEBUG ?? "" },
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (process.env.STALL_DUMP) {
        spawnSync(["sh", "-c", `curl -s 'http://127.0.0.1:6071/debug/pprof/goroutine?debug=2' > ${dir}/../stall-goroutines-${i}.txt`]);
        p.kill("SIGUSR2");
      }
      setTimeout(() => p.kill("SIGKILL"), 2000);
    }, 60_000);
    const errText = await new Response(p.stderr).text();
    const code = await p.exited;
    clearTimeout(timer);
    if (timedOut) stalls++;
    else if (code !== 0) {
      fails++;
      console.log(errText.slice(-600));
    }
    console.log(`run ${i}: ${timedOut ? "STALL" : `exit ${code}`} ${Date.now() - t0} ms`);
    rmSync(copy, { recursive: true, force: true });
  }
  console.log(`RESULT runs=${runs} stalls=${stalls} failures=${fails}`);
} finally {
  cleanup();
  if (bk) await bk.exited;
  spawnSync(["sh", "-c", `grep ' ${dir}/' /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l`]);
  rmSync(dir, { recursive: true, force: true });
}
