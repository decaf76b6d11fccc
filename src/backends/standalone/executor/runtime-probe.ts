// Does an OCI runtime run containers on this kernel? Runs `/bin/true` in a throwaway container
// whose rootfs is the host's /usr (and /bin, /lib… as the host has them) bound read-only, and
// reports the runtime's own error when it fails. Nothing on the host changes but the probe dir.
import { lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DIRECT, runtimeArgv } from "./hybrid-cgroups.ts";
import type { RuntimeInvocation } from "./hybrid-cgroups.ts";
import { buildSpec } from "./spec.ts";
import type { SpecMount } from "./spec.ts";

export type ProbeResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

const HOST_DIRS = ["usr", "bin", "sbin", "lib", "lib64", "lib32"];
const PROBE_TIMEOUT_MS = 10_000;

/** The rootfs: host top-level symlinks copied as symlinks, host directories bound read-only. */
function probeRootfs(rootfs: string): SpecMount[] {
  mkdirSync(rootfs, { recursive: true });
  const mounts: SpecMount[] = [];
  for (const name of HOST_DIRS) {
    const host = `/${name}`;
    const st = lstatSync(host, { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) symlinkSync(readlinkSync(host), join(rootfs, name));
    else if (st?.isDirectory()) {
      mkdirSync(join(rootfs, name));
      mounts.push({ destination: host, type: "bind", source: host, options: ["rbind", "ro"] });
    }
  }
  return mounts;
}

/** Runs the probe container with the runtime at path, run as `how` says (hybrid-cgroups.ts); dir is created and removed. */
export async function probeRuntime(path: string, dir: string, how: RuntimeInvocation = DIRECT): Promise<ProbeResult> {
  const bundle = join(dir, "bundle");
  const state = join(dir, "state");
  const id = `probe-${process.pid}`;
  try {
    const rootfs = join(bundle, "rootfs");
    const mounts = probeRootfs(rootfs);
    const meta = { args: ["/bin/true"], env: [], cwd: "/", user: "", network: "none", security: "sandbox" } as const;
    const spec = buildSpec({ meta, user: { uid: 0, gid: 0, additionalGids: [] }, rootPath: rootfs, rootReadonly: true, hostname: "probe", mounts });
    writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
    const proc = Bun.spawn(runtimeArgv(how, path, ["--root", state, "run", "--bundle", bundle, id]), { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    const timer = setTimeout(() => proc.kill("SIGKILL"), PROBE_TIMEOUT_MS);
    const [stderr, exitCode] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    if (exitCode === 0) return { ok: true };
    await Bun.spawn(runtimeArgv(how, path, ["--root", state, "delete", "--force", id]), { stdin: "ignore", stdout: "ignore", stderr: "ignore" }).exited;
    return { ok: false, error: stderr.trim().split("\n").pop() || `exited ${exitCode}` };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
