#!/usr/bin/env bun
// The README's main job: a real build with no network. Makes a busybox root filesystem from
// Debian's busybox-static, builds examples/offline.ts over this project's source with the
// progress display, then builds it again: the second build is fully cached.
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { makeBusyboxRootfs, HOST_BUSYBOX } from "./lib/busybox-rootfs.ts";

const repo = resolve(import.meta.dir, "..");
const work = join(repo, ".tmp/demo");
const rootfs = join(work, "rootfs");
const out = join(work, "out");

for (const [what, ok, pkg] of [["runc", Bun.which("runc"), "runc"], ["busybox", existsSync(HOST_BUSYBOX), "busybox-static"]] as const) {
  if (!ok) {
    console.error(`error: ${what} is missing: install Debian's ${pkg} package (apt-get install ${pkg})`);
    process.exit(1);
  }
}
if (!existsSync(join(rootfs, "bin/busybox"))) {
  mkdirSync(rootfs, { recursive: true });
  makeBusyboxRootfs(rootfs);
}

const bun = process.execPath;
const definition = Bun.spawnSync([bun, join(repo, "src/cmd/main.ts"), "graph", "offline"], { stderr: "inherit" });
if (definition.exitCode !== 0) process.exit(definition.exitCode ?? 1);

async function build(title: string): Promise<void> {
  console.error(`\n=== ${title} ===`);
  const p = Bun.spawn(
    [bun, join(repo, "src/cmd/main.ts"), "build", "--root", join(work, "state"), "--local", `rootfs=${rootfs}`, "--local", `src=${repo}`, "--output", `type=local,dest=${out}`],
    { stdin: new Blob([definition.stdout]), stdout: "inherit", stderr: "inherit" },
  );
  const code = await p.exited;
  if (code !== 0) process.exit(code);
}

const t0 = performance.now();
await build("first build");
const t1 = performance.now();
await build("same build again: every step CACHED");
const t2 = performance.now();
console.error(`\nfirst build ${((t1 - t0) / 1000).toFixed(2)}s, cached rebuild ${((t2 - t1) / 1000).toFixed(2)}s`);
console.error(`result in ${out}: ${readdirSync(out).sort().join(", ")}`);
console.error(readFileSync(join(out, "summary.txt"), "utf8").trim());
