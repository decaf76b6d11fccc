// The daemon as a container image: examples/serve-image.ts built from this host's files (no
// network) into an OCI tarball, unpacked into a runc bundle, run privileged with runc (its
// entrypoint: buildkit serve), and a build driven through it by our client.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINUX_AMD64, local, scratch } from "../../../src/core/llb/index.ts";
import { serveImageOutput } from "../../../examples/serve-image.ts";
import { binary } from "../../../bench/lib/binary.ts";
import { makeBusyboxRootfs } from "../../fixtures/busybox-rootfs.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { runClient } from "./daemons.ts";

const run = requireIntegration("the serve image under runc", { runc: true, busybox: true, tools: ["tar", "/usr/bin/cp"] });

interface Descriptor {
  readonly digest: string;
}

describe.if(run)("the serve image", () => {
  const dir = mkdtempSync(join(tmpdir(), "bk-serve-image-"));
  const id = `bk-serve-image-${process.pid}`;
  afterAll(() => {
    Bun.spawnSync(["runc", "kill", id, "KILL"]);
    Bun.spawnSync(["runc", "delete", "--force", id]);
    const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((m) => m.startsWith(dir));
    for (const m of mounts.reverse()) Bun.spawnSync(["umount", "-l", m]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("builds from the host's files, runs with runc, and serves a build", async () => {
    // The compiled binary, alone in a directory (--local bin=DIR).
    const bin = join(dir, "bin");
    mkdirSync(bin);
    copyFileSync(await binary(), join(bin, "buildkit"));
    chmodSync(join(bin, "buildkit"), 0o755);
    const image = join(dir, "serve.tar");
    const graph = await runClient(["graph", "serve-image"]);
    expect(graph.code).toBe(0);
    const built = await runClient(["build", "--root", join(dir, "state"), "--progress", "plain", "--local", "host=/", "--local", `bin=${bin}`, "--output", serveImageOutput(image)], {
      stdin: graph.stdout,
      timeoutMs: 300_000,
    });
    expect(built.stderr).not.toContain("error:");
    expect(built.code).toBe(0);

    // Unpack: index → manifest → config and layers, applied in order into the bundle's rootfs.
    const layout = join(dir, "layout");
    mkdirSync(layout);
    expect(Bun.spawnSync(["tar", "-xf", image, "-C", layout]).exitCode).toBe(0);
    const blob = (d: Descriptor) => join(layout, "blobs", ...d.digest.split(":"));
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests: Descriptor[] };
    const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!), "utf8")) as { config: Descriptor; layers: Descriptor[] };
    const config = JSON.parse(readFileSync(blob(manifest.config), "utf8")) as { config: { Entrypoint: string[]; Cmd: string[]; Env: string[] } };
    expect(config.config.Entrypoint).toEqual(["/usr/local/bin/buildkit", "serve"]);
    const rootfs = join(dir, "bundle", "rootfs");
    mkdirSync(rootfs, { recursive: true });
    for (const layer of manifest.layers) expect(Bun.spawnSync(["tar", "-xzf", blob(layer), "-C", rootfs]).exitCode).toBe(0);
    expect(existsSync(join(rootfs, "usr/sbin/runc"))).toBe(true);

    // Run it privileged: all capabilities, no seccomp, the host's network, /dev, /sys and
    // cgroups; state on a host directory (overlayfs cannot sit on overlayfs) and the socket's
    // directory shared.
    const socketDir = join(dir, "run");
    const stateDir = join(dir, "daemon-state");
    mkdirSync(socketDir);
    mkdirSync(stateDir);
    writeFileSync(join(dir, "bundle", "config.json"), JSON.stringify(privilegedSpec([...config.config.Entrypoint, ...config.config.Cmd], config.config.Env, { socketDir, stateDir })));
    const daemon = Bun.spawn(["runc", "run", "--bundle", join(dir, "bundle"), id], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const socket = join(socketDir, "buildkitd.sock");
    for (let i = 0; i < 300 && !existsSync(socket) && daemon.exitCode === null; i++) await Bun.sleep(100);
    if (!existsSync(socket)) throw new Error(`the image's daemon did not start: ${await new Response(daemon.stderr).text()}`);

    // A build through it: a local rootfs and context in, a local export out.
    const busybox = join(dir, "busybox");
    makeBusyboxRootfs(busybox);
    const out = join(dir, "out");
    const def = local("rootfs")
      .run({ args: ["sh", "-c", "echo inside-the-image > /out/where"], mounts: [{ dest: "/out", source: scratch() }] })
      .getMount("/out")!
      .marshal({ platform: LINUX_AMD64 });
    const r = await runClient(["build", "--addr", `unix://${socket}`, "--progress", "plain", "--local", `rootfs=${busybox}`, "--output", `type=local,dest=${out}`], { stdin: def, timeoutMs: 120_000 });
    const workers = await runClient(["debug", "workers", "--addr", `unix://${socket}`]);
    Bun.spawnSync(["runc", "kill", id, "TERM"]);
    const timer = setTimeout(() => Bun.spawnSync(["runc", "kill", id, "KILL"]), 20_000);
    await daemon.exited;
    clearTimeout(timer);
    expect(workers.stdout.toString()).toMatch(/^standalone-/m);
    expect(r.stderr).not.toContain("error:");
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "where"), "utf8")).toBe("inside-the-image\n");
  }, 600_000);
});

/** An OCI runtime spec for a privileged daemon container. */
function privilegedSpec(args: string[], env: string[], dirs: { socketDir: string; stateDir: string }): object {
  // Every capability this process may hand on (its bounding set), by number.
  const names = [
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
    "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN",
    "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE",
    "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
  ];
  const bounding = BigInt(`0x${/^CapBnd:\s+([0-9a-f]+)/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "0"}`);
  const all = names.filter((_, i) => (bounding >> BigInt(i)) & 1n).map((n) => `CAP_${n}`);
  const bind = (source: string, destination: string, extra: string[] = []) => ({ destination, type: "bind", source, options: ["rbind", ...extra] });
  return {
    ociVersion: "1.0.2",
    process: { terminal: false, user: { uid: 0, gid: 0 }, args, env, cwd: "/", capabilities: { bounding: all, effective: all, permitted: all }, noNewPrivileges: false },
    root: { path: "rootfs", readonly: false },
    hostname: "buildkit-serve",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      bind("/dev", "/dev"),
      bind("/sys", "/sys"),
      { destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777"] },
      bind(dirs.stateDir, "/var/lib/buildkit-ts"),
      bind(dirs.socketDir, "/run/buildkit"),
    ],
    linux: { namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }], resources: { devices: [{ allow: true, access: "rwm" }] } },
  };
}
