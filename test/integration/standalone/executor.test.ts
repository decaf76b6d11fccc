// The executor against real OCI runtimes (runc, and crun when it works on this kernel), with a
// busybox rootfs bound as the root. Needs root, runc and crun: a missing one skips with the reason
// (a failure under CI=true); crun refusing this kernel's cgroup layout is a skip even under CI.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildkitError } from "../../../src/core/errors.ts";
import type { ExecMount, Executor, ProcessMeta } from "../../../src/core/worker/executor.ts";
import type { Mount } from "../../../src/core/worker/mount.ts";
import { createRuncExecutor, sweepRunc } from "../../../src/backends/standalone/executor/index.ts";
import { explainCrunFailure } from "../../../src/backends/standalone/executor/oci-runtime.ts";
import { findOciRuntime, runtimeStateDir } from "../../../src/backends/standalone/executor/runc.ts";
import { probeRuntime } from "../../../src/backends/standalone/executor/runtime-probe.ts";
import { runtimeInvocation } from "../../../src/backends/standalone/executor/hybrid-cgroups.ts";
import { mountPointsUnder } from "../../../src/backends/standalone/sys/mountinfo.ts";
import { hasBusybox, makeBusyboxRootfs } from "../../fixtures/busybox-rootfs.ts";

interface Runtime {
  readonly name: "runc" | "crun";
  /** The binary, when found. */
  readonly path?: string;
  /** Why this runtime's suite does not run. */
  readonly reason?: string;
  /** The reason is a property of this host (kernel, cgroups), not a missing install: a skip even under CI=true. */
  readonly hostProperty?: boolean;
}

function commonReason(): string | undefined {
  if (process.getuid?.() !== 0) return "not running as root";
  if (!hasBusybox()) return "no /bin/busybox: install Debian's busybox-static";
  return undefined;
}

async function runtime(name: "runc" | "crun"): Promise<Runtime> {
  const common = commonReason();
  if (common !== undefined) return { name, reason: common };
  let path: string;
  try {
    path = findOciRuntime(name);
  } catch (err) {
    return { name, reason: err instanceof Error ? err.message : String(err) };
  }
  if (name === "runc") return { name, path };
  const probed = await probeRuntime(path, mkdtempSync(join(tmpdir(), "buildkit-exec-probe-")), runtimeInvocation(path));
  if (probed.ok) return { name, path };
  return { name, path, reason: explainCrunFailure(probed.error), hostProperty: true };
}

const RUNTIMES = [await runtime("runc"), await runtime("crun")];
for (const rt of RUNTIMES) {
  if (rt.reason === undefined) continue;
  if (!rt.hostProperty && process.env.CI === "true") throw new Error(`standalone ${rt.name} executor tests cannot run under CI=true: ${rt.reason}`);
  console.log(`skipping standalone ${rt.name} executor tests: ${rt.reason}`);
}

const never = new AbortController().signal;
const META: ProcessMeta = { args: ["true"], env: [], cwd: "/", user: "", network: "none", security: "sandbox" };
const decoder = () => new TextDecoder();

interface Ran {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

type MetaInput = Partial<ProcessMeta> & Pick<ProcessMeta, "args">;

/** Rejections of p as a BuildkitError (fails the test when p resolves or throws anything else). */
async function rejection(p: Promise<unknown>): Promise<BuildkitError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof BuildkitError)) throw new Error(`expected a BuildkitError, got ${String(err)}`);
  return err;
}

test("a missing runc is a clear FailedPrecondition", async () => {
  const dir = mkdtempSync(join(tmpdir(), "buildkit-exec-norunc-"));
  try {
    const executor = createRuncExecutor({ root: dir, runcPath: join(dir, "no-such-runc") });
    const io = { stdout: () => {}, stderr: () => {} };
    const err = await rejection(executor.run({ root: [{ type: "bind", source: dir, options: ["rbind"] }], mounts: [], meta: META, io }, never));
    expect(err.code).toBe("FailedPrecondition");
    expect(err.message).toContain("runc not found");
    expect(err.message).toContain("apt-get install runc");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const rt of RUNTIMES) {
  describe.skipIf(rt.reason !== undefined)(`${rt.name} executor`, () => {
    let base = "";
    let rootfs = "";
    let state = "";
    let executor: Executor;
    const scratch: string[] = [];

    beforeAll(() => {
      base = mkdtempSync(join(tmpdir(), "buildkit-exec-"));
      rootfs = join(base, "rootfs");
      state = join(base, "state");
      makeBusyboxRootfs(rootfs);
      executor = createRuncExecutor({ root: state, runcPath: rt.path });
    });

    afterEach(async () => {
      await sweepRunc(state, { runcPath: rt.path });
      for (const dir of scratch.splice(0)) {
        if (mountPointsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
      }
    });

    afterAll(async () => {
      if (!base) return;
      await sweepRunc(state, { runcPath: rt.path });
      if (mountPointsUnder(base).length === 0) rmSync(base, { recursive: true, force: true });
    });

    /** A fresh host dir for one test, removed after it. */
    function hostDir(): string {
      const dir = mkdtempSync(join(base, "host-"));
      scratch.push(dir);
      return dir;
    }

    const rootMount = (): Mount[] => [{ type: "bind", source: rootfs, options: ["rbind", "rw"] }];

    async function run(meta: MetaInput, mounts: readonly ExecMount[] = [], signal = never, root = rootMount()): Promise<Ran> {
      const out = decoder();
      const err = decoder();
      let stdout = "";
      let stderr = "";
      const io = { stdout: (c: Uint8Array) => void (stdout += out.decode(c, { stream: true })), stderr: (c: Uint8Array) => void (stderr += err.decode(c, { stream: true })) };
      const full: ProcessMeta = { ...META, ...meta };
      const { exitCode } = await executor.run({ root, mounts, meta: full, io }, signal);
      return { exitCode, stdout, stderr };
    }

    const sh = (script: string, meta: Partial<ProcessMeta> = {}, mounts: readonly ExecMount[] = []) => run({ args: ["sh", "-c", script], ...meta }, mounts);

    /** Nothing left behind: no runc container, no mounts and no bundle under the state dir. */
    function expectClean(): void {
      const list = Bun.spawnSync([rt.path ?? "runc", "--root", runtimeStateDir(state, rt.path), "list", "-q"], { stdout: "pipe" });
      expect(list.stdout.toString().trim()).toBe("");
      expect(mountPointsUnder(state)).toEqual([]);
      const bundles = join(state, "bundles");
      expect(existsSync(bundles) ? readdirSync(bundles) : []).toEqual([]);
    }

    if (rt.name === "crun" && runtimeInvocation(rt.path ?? "").prefix.length > 0) {
      test("on a hybrid cgroup host the container runs in the caller's cgroups (crun makes none)", async () => {
        const r = await run({ args: ["cat", "/proc/1/cgroup"] });
        expect(r.exitCode).toBe(0);
        // No cgroup namespace: the paths read inside are the host's, and they are ours.
        expect(r.stdout).toBe(readFileSync("/proc/self/cgroup", "utf8"));
      });
    }

    test("stdout and stderr are captured, each in order", async () => {
      const r = await sh("echo out1; echo err1 >&2; echo out2; echo err2 >&2");
      expect(r).toEqual({ exitCode: 0, stdout: "out1\nout2\n", stderr: "err1\nerr2\n" });
      expectClean();
    });

    test("output is streamed while the process runs", async () => {
      let firstAt = 0;
      const io = { stdout: () => void (firstAt ||= performance.now()), stderr: () => {} };
      const meta = { ...META, args: ["sh", "-c", "echo first; sleep 1; echo second"] };
      await executor.run({ root: rootMount(), mounts: [], meta, io }, never);
      expect(performance.now() - firstAt).toBeGreaterThan(500);
    });

    test("a nonzero exit code is returned", async () => {
      expect((await sh("exit 7")).exitCode).toBe(7);
      expectClean();
    });

    test("a missing executable is an error naming it", async () => {
      const err = await rejection(run({ args: ["no-such-binary"] }));
      expect(err.message).toContain("no-such-binary");
      expectClean();
    });

    test("env, cwd (made when missing) and a default PATH", async () => {
      const r = await sh('echo "$FOO"; pwd; echo "$PATH"', { env: ["FOO=bar baz"], cwd: "/work/dir" });
      expect(r.stdout).toBe("bar baz\n/work/dir\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
    });

    test("users: by name from /etc/passwd, numeric without it, unknown refused", async () => {
      expect((await sh("id -u; id -g; id -G", { user: "nobody" })).stdout).toBe("65534\n65534\n65534 100\n");
      expect((await sh("id -u; id -g", { user: "1234:5678" })).stdout).toBe("1234\n5678\n");
      expect((await sh("id -u; id -g", { user: "4321" })).stdout).toBe("4321\n0\n");
      expect((await sh("id -u; id -g", { user: "nobody:root" })).stdout).toBe("65534\n0\n");
      const err = await rejection(sh("true", { user: "ghost" }));
      expect(err.code).toBe("NotFound");
      expect(err.message).toContain("ghost");
      expectClean();
    });

    test("hostname, /etc/hosts with extra hosts, and no stubs left in the rootfs", async () => {
      expect((await sh("hostname")).stdout).toBe("buildkitsandbox\n");
      const r = await sh("hostname; cat /etc/hosts", { hostname: "myhost", extraHosts: [{ host: "reg.local", ip: "10.1.2.3" }] });
      expect(r.stdout).toStartWith("myhost\n127.0.0.1\tlocalhost myhost\n");
      expect(r.stdout).toContain("10.1.2.3\treg.local\n");
      expect(existsSync(join(rootfs, "etc/hosts"))).toBe(false);
      expect(existsSync(join(rootfs, "etc/resolv.conf"))).toBe(false);
    });

    test("a read-only root cannot be written", async () => {
      const root = [{ type: "bind", source: rootfs, options: ["rbind", "ro"] }];
      const r = await run({ args: ["sh", "-c", "touch /x || echo refused"] }, [], never, root);
      expect(r).toMatchObject({ exitCode: 0, stdout: "refused\n" });
      expectClean();
    });

    test("ulimits become rlimits", async () => {
      expect((await sh("ulimit -n", { ulimits: [{ name: "nofile", soft: 512, hard: 1024 }] })).stdout).toBe("512\n");
    });

    const interfaces = (procNetDev: string) =>
      procNetDev
        .split("\n")
        .slice(2)
        .map((line) => line.split(":")[0]?.trim())
        .filter((name) => name)
        .sort();

    test("network none has only loopback", async () => {
      expect(interfaces((await sh("cat /proc/net/dev", { network: "none" })).stdout)).toEqual(["lo"]);
    });

    test("network host, and sandbox (BuildKit's fallback without CNI), see the host's interfaces", async () => {
      const host = interfaces(readFileSync("/proc/net/dev", "utf8"));
      expect(interfaces((await sh("cat /proc/net/dev", { network: "host" })).stdout)).toEqual(host);
      expect(interfaces((await sh("cat /proc/net/dev", { network: "sandbox" })).stdout)).toEqual(host);
    });

    test("a writable bind mount of a host dir gets the file", async () => {
      const dir = hostDir();
      const r = await sh("echo hello > /out/file", {}, [{ dest: "/out", mounts: [{ type: "bind", source: dir, options: ["rbind"] }] }]);
      expect(r.exitCode).toBe(0);
      expect(readFileSync(join(dir, "file"), "utf8")).toBe("hello\n");
    });

    test("a readonly mount cannot be written", async () => {
      const dir = hostDir();
      writeFileSync(join(dir, "existing"), "data\n");
      const mounts = [{ dest: "/ro", mounts: [{ type: "bind", source: dir, options: ["rbind"] }], readonly: true }];
      const r = await sh("cat /ro/existing; touch /ro/new", {}, mounts);
      expect(r.stdout).toBe("data\n");
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toContain("Read-only file system");
      expect(existsSync(join(dir, "new"))).toBe(false);
    });

    test("a selector mounts a sub-path (directory or file)", async () => {
      const dir = hostDir();
      mkdirSync(join(dir, "sub/inner"), { recursive: true });
      writeFileSync(join(dir, "sub/inner/file.txt"), "inside\n");
      symlinkSync("/sub/inner", join(dir, "abs-link"));
      const bind = [{ type: "bind", source: dir, options: ["rbind"] }];
      const mounts = [
        { dest: "/data", mounts: bind, selector: "sub" },
        { dest: "/one.txt", mounts: bind, selector: "sub/inner/file.txt" },
        { dest: "/linked", mounts: bind, selector: "abs-link" },
      ];
      const r = await sh("cat /data/inner/file.txt /one.txt /linked/file.txt", {}, mounts);
      expect(r).toEqual({ exitCode: 0, stdout: "inside\ninside\ninside\n", stderr: "" });
      expect(existsSync(join(rootfs, "data"))).toBe(false);
    });

    test("a selector leaving the source is refused", async () => {
      const dir = hostDir();
      symlinkSync("../../..", join(dir, "up"));
      const bind = [{ type: "bind", source: dir, options: ["rbind"] }];
      for (const selector of ["../..", "up/etc"]) {
        const err = await rejection(sh("true", {}, [{ dest: "/data", mounts: bind, selector }]));
        expect(err.code).toBe("InvalidArgument");
        expect(err.message).toContain("leads outside the mounted source");
      }
      expectClean();
    });

    test("a tmpfs mount", async () => {
      const mounts = [{ dest: "/scratch", mounts: [{ type: "tmpfs", source: "tmpfs", options: ["size=1m"] }] }];
      const r = await sh("echo x > /scratch/f && grep ' /scratch ' /proc/mounts", {}, mounts);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toStartWith("tmpfs /scratch tmpfs rw");
    });

    test("an overlay mount is mounted on the host and unmounted after", async () => {
      const [lower, upper, work] = [hostDir(), hostDir(), hostDir()];
      writeFileSync(join(lower, "base"), "lower\n");
      const overlay = { type: "overlay", source: "overlay", options: [`lowerdir=${lower}`, `upperdir=${upper}`, `workdir=${work}`] };
      const r = await sh("cat /ov/base; echo new > /ov/added", {}, [{ dest: "/ov", mounts: [overlay] }]);
      expect(r).toEqual({ exitCode: 0, stdout: "lower\n", stderr: "" });
      expect(readFileSync(join(upper, "added"), "utf8")).toBe("new\n");
      expectClean();
    });

    test("insecure mode can mount inside, sandbox cannot", async () => {
      const script = "mkdir -p /tmp/m && mount -t tmpfs none /tmp/m && echo mounted";
      expect((await sh(script, { security: "insecure" })).stdout).toBe("mounted\n");
      const sandboxed = await sh(script, { security: "sandbox" });
      expect(sandboxed.exitCode).not.toBe(0);
      expect(sandboxed.stdout).toBe("");
    });

    test("runs run concurrently, each in its own container", async () => {
      const results = await Promise.all([1, 2, 3, 4].map((n) => sh(`sleep 0.2; echo ${n}; hostname`, { hostname: `h${n}` })));
      expect(results.map((r) => r.stdout)).toEqual(["1\nh1\n", "2\nh2\n", "3\nh3\n", "4\nh4\n"]);
      expectClean();
    });

    test("sweepRunc cleans up after a process killed mid-run", async () => {
      const executorModule = join(import.meta.dir, "../../../src/backends/standalone/executor/index.ts");
      const script = `
        const { createRuncExecutor } = await import(${JSON.stringify(executorModule)});
        const meta = { ...${JSON.stringify(META)}, args: ["sh", "-c", "echo started; sleep 30"] };
        const io = { stdout: (c) => process.stdout.write(c), stderr: () => {} };
        const root = [{ type: "bind", source: ${JSON.stringify(rootfs)}, options: ["rbind", "rw"] }];
        await createRuncExecutor({ root: ${JSON.stringify(state)}, runcPath: ${JSON.stringify(rt.path)} }).run({ root, mounts: [], meta, io }, new AbortController().signal);`;
      const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
      const reader = child.stdout.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe("started\n");
      child.kill("SIGKILL");
      await child.exited;
      expect(mountPointsUnder(join(state, "bundles")).length).toBeGreaterThan(0);
      expect(await sweepRunc(state, { runcPath: rt.path })).toEqual({ containers: 1, bundles: 1 });
      expectClean();
    }, 10_000);

    test("abort kills a running process quickly and leaves nothing", async () => {
      const ac = new AbortController();
      const { promise: started, resolve } = Promise.withResolvers<void>();
      const io = { stdout: () => resolve(), stderr: () => {} };
      const meta = { ...META, args: ["sh", "-c", "echo started; sleep 30"] };
      const running = executor.run({ root: rootMount(), mounts: [], meta, io }, ac.signal);
      await started;
      const abortedAt = performance.now();
      ac.abort();
      const err = await rejection(running);
      expect(performance.now() - abortedAt).toBeLessThan(2000);
      expect(err.code).toBe("Canceled");
      expectClean();
    }, 10_000);

    test("abort while runc is still starting leaves nothing", async () => {
      for (const delay of [0, 2, 5, 10, 20, 40]) {
        const ac = new AbortController();
        const running = run({ args: ["sleep", "30"] }, [], ac.signal);
        setTimeout(() => ac.abort(), delay);
        expect((await rejection(running)).code).toBe("Canceled");
        expectClean();
      }
    }, 20_000);
  });
}
