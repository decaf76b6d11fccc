import { describe, expect, test } from "bun:test";
import { image, LINUX_ARM64, LLBError, local, scratch } from "../../../src/core/llb/index.ts";
import { lastOp, metadataOf, opsOf } from "./helpers.ts";

const base = () => image("busybox");

describe("run", () => {
  test("args, env, cwd, user, hostname from state and options", () => {
    const s = base().addEnv("A", "1").dir("/w").user("root").run({ args: ["ls", "-l"], env: { B: "2", A: "3" }, cwd: "sub", user: "nobody", hostname: "h" });
    const meta = lastOp(s).exec!.meta!;
    expect(meta.args).toEqual(["ls", "-l"]);
    expect(meta.env).toEqual(["B=2", "A=3"]);
    expect(meta.cwd).toBe("/w/sub");
    expect(meta.user).toBe("nobody");
    expect(meta.hostname).toBe("h");
    expect(meta.removeMountStubsRecursive).toBe(true);
  });

  test("run options do not leak into the resulting state", () => {
    const s = base().run({ shlex: "true", cwd: "/x", env: { A: "1" } }).root();
    expect(s.getDir()).toBe("/");
    expect(s.getEnv("A")).toBeUndefined();
  });

  test("shlex splits like a shell without expanding", () => {
    expect(lastOp(base().run({ shlex: `sh -c "echo \\"a b\\" 'c'" d\\ e $HOME` })).exec!.meta!.args).toEqual(["sh", "-c", `echo "a b" 'c'`, "d e", "$HOME"]);
  });

  test("network, security, extra hosts, ulimits, cgroup parent, valid exit codes, proxy env", () => {
    const s = base().run({
      shlex: "true",
      network: "none",
      security: "insecure",
      extraHosts: [{ host: "db", ip: "10.0.0.2" }],
      ulimits: [{ name: "nofile", soft: 1024, hard: 4096 }],
      cgroupParent: "/bk",
      validExitCodes: [0, 1],
      proxyEnv: { httpProxy: "http://p:3128", noProxy: "localhost" },
    });
    const exec = lastOp(s).exec!;
    expect(exec.network).toBe(2);
    expect(exec.security).toBe(1);
    expect(exec.meta!.extraHosts).toEqual([{ Host: "db", IP: "10.0.0.2" }] as never);
    expect(exec.meta!.ulimit).toEqual([{ Name: "nofile", Soft: 1024, Hard: 4096 }] as never);
    expect(exec.meta!.cgroupParent).toBe("/bk");
    expect(exec.meta!.validExitCodes).toEqual([0, 1]);
    expect(exec.meta!.proxy_env).toMatchObject({ http_proxy: "http://p:3128", no_proxy: "localhost" });
    expect(Object.keys(metadataOf(s)!.caps!).sort()).toEqual([
      "exec.meta.base",
      "exec.meta.network",
      "exec.meta.proxyenv",
      "exec.meta.security",
      "exec.meta.ulimit",
      "exec.mount.bind",
      "exec.validexitcode",
    ]);
  });

  test("mounts are sorted by destination and outputs numbered among writable binds", () => {
    const e = base().run({
      shlex: "true",
      mounts: [
        { dest: "/z", source: scratch() },
        { dest: "/a", source: local("ctx"), readonly: true },
        { dest: "/m", source: scratch(), noOutput: true },
        { dest: "/c", source: scratch(), cache: { id: "c", sharing: "private" }, contentCache: "on" },
      ],
    });
    const exec = lastOp(e.getMount("/z")!).exec!;
    expect(exec.mounts!.map((m) => [m.dest, m.input, m.output, m.readonly ?? false])).toEqual([
      ["/", 0, 0, false],
      ["/a", 1, -1, true],
      ["/c", -1, -1, false],
      ["/m", -1, -1, false],
      ["/z", -1, 1, false],
    ]);
    expect(exec.mounts![2]).toMatchObject({ mountType: 3, cacheOpt: { ID: "c", sharing: 1 }, contentCache: 1 });
    // The /z mount is output 1 of the exec op; the root is output 0.
    const ops = opsOf(e.getMount("/z")!);
    expect(ops.length).toBe(3);
  });

  test("the same input mounted twice is one input", () => {
    const src = local("ctx");
    const exec = lastOp(base().run({ shlex: "true", mounts: [{ dest: "/a", source: src, readonly: true }, { dest: "/b", source: src, readonly: true }] }).root()).exec!;
    expect(exec.mounts!.map((m) => m.input)).toEqual([0, 1, 1]);
  });

  test("readonly root has no output; the state stays the image", () => {
    const s = base().run({ shlex: "true", readonlyRootfs: true });
    const ops = opsOf(s.root());
    expect(ops.length).toBe(1);
    expect(ops[0]!.op.source?.identifier).toBe("docker-image://docker.io/library/busybox:latest");
  });

  test("secrets (file and env) and ssh sockets", () => {
    const s = base().run({
      shlex: "true",
      secrets: [{ id: "npm", dest: "/root/.npmrc", uid: 1, gid: 2, mode: 0o440 }, { id: "tok", env: "TOKEN", optional: true }],
      ssh: [{}, { id: "gh", dest: "/ssh" }],
    });
    const exec = lastOp(s).exec!;
    expect(exec.secretenv).toEqual([{ ID: "tok", name: "TOKEN", optional: true }] as never);
    const special = exec.mounts!.filter((m) => m.mountType === 1 || m.mountType === 2);
    expect(special.map((m) => [m.dest, m.mountType])).toEqual([["/root/.npmrc", 1], ["/run/buildkit/ssh_agent.0", 2], ["/ssh", 2]]);
    expect(special[0]!.secretOpt).toMatchObject({ ID: "npm", uid: 1, gid: 2, mode: 0o440 });
    expect(special[1]!.SSHOpt).toMatchObject({ mode: 0o600 });
    expect(exec.meta!.env).toEqual(["SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0"]);
    expect(metadataOf(s)!.caps).toMatchObject({ "exec.mount.secret": true, "exec.secretenv": true, "exec.mount.ssh": true });
  });

  test("tmpfs without size records no size cap", () => {
    const s = base().run({ shlex: "true", mounts: [{ dest: "/t", source: scratch(), tmpfs: true }] });
    expect(lastOp(s).exec!.mounts![1]).toMatchObject({ dest: "/t", mountType: 4 });
    expect(metadataOf(s)!.caps!["exec.mount.tmpfs.size"]).toBeUndefined();
  });

  test("platform: from the state, else the marshal default", () => {
    expect(lastOp(base().platform(LINUX_ARM64).run({ shlex: "true" })).platform).toMatchObject({ Architecture: "arm64", OS: "linux" });
    expect(lastOp(base().run({ shlex: "true" })).platform).toMatchObject({ Architecture: "amd64", OS: "linux" });
  });

  test("custom name, description, ignore cache, worker constraints", () => {
    const s = base().run({ shlex: "true", name: "step", description: { k: "v" }, ignoreCache: true, workerConstraints: ["os==linux"] });
    const md = metadataOf(s)!;
    expect(md.description).toEqual({ k: "v", "llb.customname": "step" });
    expect(md.ignore_cache).toBe(true);
    expect(lastOp(s).constraints!.filter).toEqual(["os==linux"]);
  });

  test("addMount on an exec state adds to the same step", () => {
    const e = base().run({ shlex: "true" });
    const o1 = e.addMount("/o1", scratch());
    const o2 = e.addMount("/o2", scratch());
    const [a, b] = [opsOf(o1), opsOf(o2)];
    expect(a[a.length - 1]!.digest).toBe(b[b.length - 1]!.digest);
  });
});

describe("run misuse", () => {
  const cases: [string, () => unknown, string][] = [
    ["empty args", () => base().run({ args: [] }), "run: arguments are required"],
    ["empty shlex", () => base().run({ shlex: "  " }), "run: arguments are required"],
    ["bad quoting", () => base().run({ shlex: `echo "x` }), `parsing command "echo "x": unterminated double quote`],
    ["relative mount", () => base().run({ shlex: "true", mounts: [{ dest: "rel", source: scratch() }] }), "mount rel: destination must be an absolute path"],
    ["mount over a mount", () => base().run({ shlex: "true", mounts: [{ dest: "/a", source: scratch() }, { dest: "/a", source: scratch() }] }), "mount /a: a mount already exists at this path"],
    ["mount over root", () => base().run({ shlex: "true" }).addMount("/", scratch()), "mount /: a mount already exists at this path"],
    ["tmpfs with a source", () => base().run({ shlex: "true", mounts: [{ dest: "/t", source: base(), tmpfs: true }] }), "mount /t: tmpfs mounts must use scratch"],
    ["cache without id", () => base().run({ shlex: "true", mounts: [{ dest: "/c", source: scratch(), cache: { id: "" } }] }), "mount /c: cache mounts need an id"],
    ["relative secret", () => base().run({ shlex: "true", secrets: [{ id: "s", dest: "s" }] }), "secret s: destination must be an absolute path"],
    ["readonly scratch root", () => scratch().run({ shlex: "true", readonlyRootfs: true }), "run: a read-only root filesystem needs a source, not scratch"],
    [
      "cache mount used as an input",
      () => base().run({ shlex: "true" }).addMount("/c", scratch(), { cache: { id: "c" } }).marshal(),
      "cache mount /c has no output and cannot be used as an input",
    ],
  ];
  for (const [name, f, message] of cases) {
    test(name, () => {
      expect(f).toThrow(LLBError);
      expect(f).toThrow(message);
    });
  }
});
