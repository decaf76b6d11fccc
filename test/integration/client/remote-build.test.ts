// Our client (`buildkit build --addr`, du, prune, debug workers) against `buildkit serve` and
// against BuildKit v0.11.6's buildkitd: a local context in, a local export and a tar on stdout
// out, incremental sends of a 2,000-file context, failures as one line with exit 1, secrets,
// and SIGINT canceling the build on the daemon.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LINUX_AMD64, local, scratch, type State } from "../../../src/core/llb/index.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BUN, CLI } from "../../paths.ts";
import { buildkitdAvailable, PeerDaemon, runClient, serveDaemon, transferredBytes, type TestDaemon } from "./daemons.ts";

const base = requireIntegration("our client against daemons", { runc: true, busybox: true, tools: ["tar"] });
const daemons: [string, () => TestDaemon][] = [
  ["buildkit serve", serveDaemon],
  ...(base && buildkitdAvailable("our client against BuildKit's buildkitd") ? [["buildkitd v0.11.6", () => new PeerDaemon()] as [string, () => TestDaemon]] : []),
];

const def = (s: State) => s.marshal({ platform: LINUX_AMD64 });

/** A step on the busybox rootfs with the context at /ctx; what it writes under /out is the result. */
function step(sh: string, opts: { secret?: boolean } = {}): State {
  return local("rootfs")
    .run({
      args: ["sh", "-c", sh],
      mounts: [
        { dest: "/out", source: scratch() },
        { dest: "/ctx", source: local("ctx"), readonly: true },
      ],
      ...(opts.secret ? { secrets: [{ id: "token", dest: "/run/secrets/token" }] } : {}),
    })
    .getMount("/out")!;
}

describe.each(base ? daemons : [])("our client against %s", (_name, make) => {
  const d = make();
  let ctx = "";
  const build = (extra: string[], state: State, opts: { timeoutMs?: number } = {}) =>
    runClient(["build", "--addr", d.addr, "--local", `rootfs=${d.rootfs}`, "--local", `ctx=${ctx}`, ...extra], { stdin: def(state), ...opts });

  beforeAll(async () => {
    await d.start();
    ctx = d.temp("ctx");
    writeFileSync(join(ctx, "a.txt"), "alpha\n");
    mkdirSync(join(ctx, "sub"));
    writeFileSync(join(ctx, "sub", "b.txt"), "beta\n");
  });
  afterAll(() => d.cleanup());

  test("a local context in, a local export out", async () => {
    const out = d.temp("out");
    const r = await build(["--progress", "plain", "--output", `type=local,dest=${out}`], step("echo from-step; cat /ctx/a.txt /ctx/sub/b.txt > /out/both"));
    expect(r.stderr).toContain("from-step");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^trace: /m);
    expect(readFileSync(join(out, "both"), "utf8")).toBe("alpha\nbeta\n");
  });

  test("a tar on stdout", async () => {
    const r = await build(["--progress", "quiet", "--output", "type=tar,dest=-"], step("echo tarred > /out/t.txt"));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const x = Bun.spawnSync(["tar", "-xOf", "-", "t.txt"], { stdin: r.stdout });
    expect(x.stdout.toString()).toBe("tarred\n");
  });

  test("an OCI tarball and a docker tarball received into files", async () => {
    const dir = d.temp("oci");
    for (const type of ["oci", "docker"]) {
      const file = join(dir, `${type}.tar`);
      const r = await build(["--progress", "quiet", "--output", `type=${type},dest=${file},name=example.com/client/test:latest`], step(`echo ${type} > /out/x`));
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const list = Bun.spawnSync(["tar", "-tf", file]).stdout.toString().split("\n");
      expect(list).toContain(type === "oci" ? "index.json" : "manifest.json");
    }
  });

  test("--ignore-file excludes stay on the client", async () => {
    const dir = d.temp("ign");
    writeFileSync(join(dir, "keep.txt"), "keep\n");
    writeFileSync(join(dir, "secret.key"), "do not send\n");
    const ignore = join(d.temp("ignfile"), ".dockerignore");
    writeFileSync(ignore, "# comment\n*.key\n");
    const out = d.temp("ignout");
    const r = await runClient(
      ["build", "--addr", d.addr, "--local", `rootfs=${d.rootfs}`, "--local", `ctx=${dir}`, "--ignore-file", `ctx=${ignore}`, "--output", `type=local,dest=${out}`],
      { stdin: def(step("ls /ctx > /out/list")) },
    );
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "list"), "utf8")).toBe("keep.txt\n");
  });

  test("a failing step: exit 1 and one error line", async () => {
    const r = await build(["--progress", "plain"], step("echo about-to-fail; exit 3"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("about-to-fail");
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("error: "));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("exit code: 3");
  });

  test("a secret from the client", async () => {
    const file = join(d.temp("secret"), "token");
    writeFileSync(file, "s3cr3t");
    const out = d.temp("sout");
    const r = await build(["--secret", `id=token,src=${file}`, "--output", `type=local,dest=${out}`], step("wc -c < /run/secrets/token > /out/len", { secret: true }));
    expect(r.stderr).not.toContain("s3cr3t");
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "len"), "utf8").trim()).toBe("6");
  });

  test("after one file of 2,000 changed, the second build sends under 5% of the first's bytes", async () => {
    const big = d.temp("big");
    const chunk = "x".repeat(4095) + "\n";
    for (let i = 0; i < 2000; i++) {
      const sub = join(big, `d${i % 20}`);
      if (i < 20) mkdirSync(sub);
      writeFileSync(join(sub, `f${i}.txt`), `${i}\n${chunk}`);
    }
    // The figures come from the trace file, which records every status event as a JSON line.
    // (With --progress rawjson against buildkitd, a first transfer occasionally stalls: a known
    // flow-control problem in the session tunnel under investigation, see the closing note.)
    const run = async () => {
      const r = await runClient(["build", "--addr", d.addr, "--progress", "plain", "--local", `rootfs=${d.rootfs}`, "--local", `ctx=${big}`], {
        stdin: def(step("ls -R /ctx | wc -l > /out/n")),
        timeoutMs: 120_000,
      });
      const trace = /^trace: (.*)$/m.exec(r.stderr)?.[1];
      return { ...r, events: trace ? readFileSync(trace, "utf8") : "" };
    };
    const first = await run();
    expect(first.code).toBe(0);
    writeFileSync(join(big, "d7", "f7.txt"), `changed\n${chunk}`);
    const second = await run();
    expect(second.code).toBe(0);
    const [a, b] = [transferredBytes(first.events, "ctx"), transferredBytes(second.events, "ctx")];
    console.log(`${_name}: first build sent ${a} bytes of the context, the second ${b} (${((100 * b) / a).toFixed(2)}%)`);
    expect(a).toBeGreaterThan(2000 * 4096);
    expect(b).toBeGreaterThan(0);
    expect(b).toBeLessThan(a * 0.05);
  }, 240_000);

  test("SIGINT cancels the build on the daemon", async () => {
    const marker = `victim-${Date.now()}`;
    const p = Bun.spawn([BUN, CLI, "build", "--addr", d.addr, "--progress", "plain", "--local", `rootfs=${d.rootfs}`, "--local", `ctx=${ctx}`], {
      stdin: new Blob([def(step(`echo ${marker}; sleep 120`))]),
      stdout: "ignore",
      stderr: "pipe",
      env: { ...process.env, BUILDKIT_HOST: "" },
    });
    let stderr = "";
    const reader = p.stderr.getReader();
    const deadline = Date.now() + 60_000;
    while (!stderr.includes(marker) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += new TextDecoder().decode(value);
    }
    expect(stderr).toContain(marker);
    const t0 = Date.now();
    p.kill("SIGINT");
    const code = await p.exited;
    expect(code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(15_000);
    // The step's container is gone: no process on the host still runs that script.
    await Bun.sleep(1000);
    const ps = Bun.spawnSync(["ps", "-eo", "args"]).stdout.toString();
    expect(ps).not.toContain(marker);
  }, 90_000);

  test("du, prune and debug workers", async () => {
    const workers = await runClient(["debug", "workers", "--addr", d.addr]);
    expect(workers.stderr).toBe("");
    expect(workers.code).toBe(0);
    expect(workers.stdout.toString()).toMatch(/^ID\s+PLATFORMS\n\S+\s+linux\/amd64/);
    const du = await runClient(["du", "--addr", d.addr]);
    expect(du.code).toBe(0);
    expect(du.stdout.toString()).toMatch(/^Total:\s+\S+/m);
    const prune = await runClient(["prune", "--all"], { env: { BUILDKIT_HOST: d.addr } });
    expect(prune.code).toBe(0);
    expect(prune.stdout.toString()).toMatch(/^Total:\s+\S+/m);
  });
});

describe.if(base)("our client against buildkit serve over TCP with mutual TLS", () => {
  const d = serveDaemon();
  let tcp = "";
  let tls: string[] = [];

  beforeAll(async () => {
    const { makeCerts } = await import("../api/certs.ts");
    const certs = await makeCerts(d.temp("certs"));
    await d.start(["--addr", "tcp://127.0.0.1:0", "--tlscert", certs.certPath, "--tlskey", certs.keyPath, "--tlscacert", certs.caPath]);
    tcp = (d as unknown as { tcpAddress(): string }).tcpAddress();
    tls = ["--tlscacert", certs.caPath, "--tlscert", certs.clientCertPath, "--tlskey", certs.clientKeyPath, "--tlsservername", "localhost"];
  });
  afterAll(() => d.cleanup());

  test("a build with a local export, and a refusal without a client certificate", async () => {
    const out = d.temp("out");
    const r = await runClient(["build", "--addr", tcp, ...tls, "--local", `rootfs=${d.rootfs}`, "--local", `ctx=${d.rootfs}`, "--output", `type=local,dest=${out}`], {
      stdin: def(step("echo over-tls > /out/t")),
    });
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "t"), "utf8")).toBe("over-tls\n");
    const refused = await runClient(["debug", "workers", "--addr", tcp, "--tlscacert", tls[1] ?? "", "--tlsservername", "localhost"], { timeoutMs: 20_000 });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: connecting to daemon tcp:\/\/127\.0\.0\.1:\d+: /);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("no daemon at the address: one line naming it, exit 1", async () => {
    const r = await runClient(["build", "--addr", `unix://${d.dir}/nothing.sock`, "--progress", "quiet"], { stdin: def(step("true")) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: connecting to daemon unix:\/\/\S+nothing\.sock: /);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});

/** A TCP port nothing listens on now (buildkitd needs one it is told; it does not report :0). */
async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe.if(base && buildkitdAvailable("our client against buildkitd over TLS"))("our client against buildkitd v0.11.6 over TCP with mutual TLS", () => {
  const d = new PeerDaemon();
  let tcp = "";
  let tls: string[] = [];

  beforeAll(async () => {
    const { makeCerts } = await import("../api/certs.ts");
    const certs = await makeCerts(d.temp("certs"));
    tcp = `tcp://127.0.0.1:${await freePort()}`;
    await d.start(["--addr", tcp, "--tlscert", certs.certPath, "--tlskey", certs.keyPath, "--tlscacert", certs.caPath]);
    tls = ["--tlscacert", certs.caPath, "--tlscert", certs.clientCertPath, "--tlskey", certs.clientKeyPath, "--tlsservername", "localhost"];
    for (const deadline = Date.now() + 20_000; (await runClient(["debug", "workers", "--addr", tcp, ...tls], { timeoutMs: 10_000 })).code !== 0; await Bun.sleep(200)) {
      if (Date.now() > deadline) throw new Error(`buildkitd did not answer on ${tcp}`);
    }
  });
  afterAll(() => d.cleanup());

  // Several megabytes through TLS both ways: the window fix sits under TLS on this path too
  // (grpc-go raises INITIAL_WINDOW_SIZE during large transfers).
  test("a multi-megabyte context in and back out over TLS", async () => {
    const ctx = d.temp("big");
    const chunk = "y".repeat(4096);
    for (let i = 0; i < 1500; i++) {
      const sub = join(ctx, `d${i % 15}`);
      mkdirSync(sub, { recursive: true });
      writeFileSync(join(sub, `f${i}.txt`), `${i}\n${chunk}`);
    }
    const out = d.temp("out");
    const copyAll = step("cp -a /ctx/. /out/ && ls -d /out/d* | wc -l > /out/count");
    const r = await runClient(["build", "--addr", tcp, ...tls, "--progress", "quiet", "--local", `rootfs=${d.rootfs}`, "--local", `ctx=${ctx}`, "--output", `type=local,dest=${out}`], {
      stdin: def(copyAll),
      timeoutMs: 120_000,
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "count"), "utf8").trim()).toBe("15");
    expect(readFileSync(join(out, "d7", "f1492.txt"), "utf8")).toBe(`1492\n${chunk}`);
  });
});
