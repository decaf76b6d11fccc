// BuildKit v0.11.6's own buildctl drives `buildkit serve` unchanged, as a BuildKit user mixing
// the two would: workers, builds with and without local sources, local and tar outputs, du,
// prune, over a unix socket and over TCP with mutual TLS.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { LINUX_AMD64, local, mkfile, scratch, type State } from "../../../src/core/llb/index.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { makeCerts, type TestCerts } from "../api/certs.ts";
import { buildctlAvailable, ServeHarness } from "./daemon.ts";

const run = requireIntegration("buildkit serve with buildctl", { runc: true, busybox: true, tools: ["openssl", "tar"] }) && buildctlAvailable("buildkit serve with buildctl");

const def = (s: State) => s.marshal({ platform: LINUX_AMD64 });

/** Runs a shell script on the busybox rootfs and returns what it wrote under /out. */
function script(sh: string): State {
  return local("rootfs")
    .run({ args: ["sh", "-c", sh], mounts: [{ dest: "/out", source: scratch() }] })
    .getMount("/out")!;
}

describe.if(run)("buildkit serve driven by buildctl v0.11.6", () => {
  const h = new ServeHarness();
  let certs: TestCerts;
  let tcp = "";

  beforeAll(async () => {
    certs = await makeCerts(h.temp("certs"));
    await h.start(["--addr", "tcp://127.0.0.1:0", "--tlscert", certs.certPath, "--tlskey", certs.keyPath, "--tlscacert", certs.caPath]);
    tcp = h.tcpAddress();
  });
  afterAll(() => h.cleanup());

  const tlsFlags = () => ["--tlscacert", certs.caPath, "--tlscert", certs.clientCertPath, "--tlskey", certs.clientKeyPath, "--tlsservername", "localhost"];

  test("debug workers lists the standalone worker", async () => {
    const r = await h.buildctl(["debug", "workers"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/^standalone-\S+\s+linux\/\w+/m);
  });

  test("debug workers -v shows BuildKit's labels and the GC rules the daemon applies", async () => {
    const r = await h.buildctl(["debug", "workers", "-v"]);
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    const labels: [string, string][] = [["executor", "oci"], ["snapshotter", "overlayfs"], ["network", "host"], ["oci.process-mode", "sandbox"], ["selinux.enabled", "false"]];
    for (const [k, v] of labels) {
      expect(out).toMatch(new RegExp(`org\\.mobyproject\\.buildkit\\.worker\\.${k.replace(".", "\\.")}:\\s+${v}\\n`));
    }
    // buildkitd's four default rules; v0.11's buildctl shows field 3 (reservedSpace) as Keep Bytes.
    expect(out).toMatch(/GC Policy rule#0:\n\tAll:\s+false\n\tFilters:\s+type==source\.local type==exec\.cachemount type==source\.git\.checkout\n\tKeep Duration:\s+48h0m0s\n/);
    expect(out).toMatch(/GC Policy rule#1:\n\tAll:\s+false\n\tKeep Duration:\s+1440h0m0s\n\tKeep Bytes:\s+\d+(\.\d+)?[kMGT]?B\n/);
    expect(out).toMatch(/GC Policy rule#3:\n\tAll:\s+true\n\tKeep Bytes:\s+\d+(\.\d+)?[kMGT]?B\n/);
  });

  test("build with a local source and a local output", async () => {
    const out = h.temp("out");
    const r = await h.buildctl(["build", "--progress", "plain", "--local", `rootfs=${h.rootfs}`, "--output", `type=local,dest=${out}`], { stdin: def(script("echo from-the-step; echo hi > /out/hello")) });
    expect(r.stderr).toContain("from-the-step");
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "hello"), "utf8")).toBe("hi\n");
  });

  test("a local output writes into dest and keeps what was there", async () => {
    const out = h.temp("keep");
    await Bun.write(join(out, "mine.txt"), "keep me");
    const r = await h.buildctl(["build", "--local", `rootfs=${h.rootfs}`, "--output", `type=local,dest=${out}`], { stdin: def(script("echo new > /out/new.txt")) });
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "mine.txt"), "utf8")).toBe("keep me");
    expect(readFileSync(join(out, "new.txt"), "utf8")).toBe("new\n");
  });

  test("a definition without local sources, tar to a file and to stdout", async () => {
    const bytes = def(scratch().file(mkfile("/greeting", 0o644, "hello tar\n")));
    const file = join(h.temp("tar"), "out.tar");
    const r1 = await h.buildctl(["build", "--output", `type=tar,dest=${file}`], { stdin: bytes });
    expect(r1.code).toBe(0);
    const list = Bun.spawnSync(["tar", "-tf", file]).stdout.toString();
    expect(list.split("\n")).toContain("greeting");
    const r2 = await h.buildctl(["build", "--output", "type=tar,dest=-"], { stdin: bytes });
    expect(r2.code).toBe(0);
    const x = Bun.spawnSync(["tar", "-xOf", "-", "greeting"], { stdin: r2.stdout });
    expect(x.stdout.toString()).toBe("hello tar\n");
  });

  test("source-date-epoch on a local or tar output dates what the client receives", async () => {
    const bytes = def(scratch().file(mkfile("/greeting", 0o644, "hello\n")));
    const out = h.temp("sde");
    const r = await h.buildctl(["build", "--output", `type=local,dest=${out},source-date-epoch=1000000000`], { stdin: bytes });
    expect(r.code).toBe(0);
    expect(statSync(join(out, "greeting")).mtimeMs).toBe(1000000000 * 1000);
    const t = await h.buildctl(["build", "--output", "type=tar,dest=-,source-date-epoch=1000000000"], { stdin: bytes });
    expect(t.code).toBe(0);
    const listing = Bun.spawnSync(["tar", "--full-time", "-tvf", "-"], { stdin: t.stdout }).stdout.toString();
    expect(listing).toContain("2001-09-09 01:46:40 greeting");
  });

  test("a failing step fails the build with its error", async () => {
    const r = await h.buildctl(["build", "--local", `rootfs=${h.rootfs}`], { stdin: def(script("echo about-to-fail; exit 3")) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("about-to-fail");
    expect(r.stderr).toContain("exit code: 3");
  });

  test("du lists the records and prune removes them", async () => {
    const du = await h.buildctl(["du"]);
    expect(du.code).toBe(0);
    expect(du.stdout.toString()).toMatch(/^result-\S+\s+true\s+/m);
    const prune = await h.buildctl(["prune", "--all"]);
    expect(prune.code).toBe(0);
    expect(prune.stdout.toString()).toMatch(/^Total:\s+\S+/m);
    const after = await h.buildctl(["du"]);
    expect(after.stdout.toString()).not.toMatch(/^result-/m);
  });

  test("over TCP with mutual TLS; a client without a certificate is refused", async () => {
    const ok = await h.buildctl([...tlsFlags(), "debug", "workers"], { addr: tcp });
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout.toString()).toMatch(/^standalone-/m);
    const out = h.temp("tls-out");
    const b = await h.buildctl([...tlsFlags(), "build", "--local", `rootfs=${h.rootfs}`, "--output", `type=local,dest=${out}`], { addr: tcp, stdin: def(script("echo tls > /out/t")) });
    expect(b.code).toBe(0);
    expect(readFileSync(join(out, "t"), "utf8")).toBe("tls\n");
    const refused = await h.buildctl(["--tlscacert", certs.caPath, "--tlsservername", "localhost", "debug", "workers"], { addr: tcp, timeoutMs: 15_000 });
    expect(refused.code).not.toBe(0);
  });

  test("garbage bytes on the socket leave the daemon serving", async () => {
    await new Promise<void>((resolve) => {
      const sock = connect(h.socket, () =>
        sock.write(Buffer.from("GET / HTTP/1.1\r\n\r\n\x00\x01garbage".repeat(50)), () => {
          sock.destroy();
          resolve();
        }),
      );
      sock.on("error", () => resolve());
    });
    const r = await h.buildctl(["debug", "workers"]);
    expect(r.code).toBe(0);
  });
});
