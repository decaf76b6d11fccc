// BuildKit v0.11.6's own client (buildctl) against our gRPC server: proves the framing,
// HTTP/2 settings, ALPN and status handling interoperate with grpc-go.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type GrpcServer } from "../../../src/api/grpc/server.ts";
import { ControlService } from "../../../src/api/grpc/services.ts";
import { BUILDCTL, peerAvailable, peerMissing } from "../../fixtures/peers.ts";
import { makeCerts, type TestCerts } from "./certs.ts";

const available = (): boolean =>
  peerAvailable("buildctl interop", peerMissing(BUILDCTL) ?? (Bun.which("openssl") === null ? "openssl is not installed" : undefined));

const RECORD_ID = "k3xy2z8q9w1v0u7t6s5r4p3o2";

function fakeControl(server: GrpcServer): GrpcServer {
  return server.addService(ControlService, {
    ListWorkers: async () => ({
      record: [{ ID: "ts-worker-1", Labels: { "org.mobyproject.buildkit.worker.executor": "oci" }, platforms: [{ OS: "linux", Architecture: "amd64" }, { OS: "linux", Architecture: "arm", Variant: "v7" }] }],
    }),
    Info: async () => ({ buildkitVersion: { package: "github.com/example/buildkit-ts", version: "v0.1.0", revision: "test" } }),
    DiskUsage: async () => ({
      record: [{ ID: RECORD_ID, Mutable: false, InUse: false, Size: 2_000_000, CreatedAt: { seconds: 1_700_000_000 }, LastUsedAt: { seconds: 1_700_000_100 }, UsageCount: 3, Description: "test record", RecordType: "regular" }],
    }),
  });
}

async function buildctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([BUILDCTL, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, BUILDKIT_HOST: "" } });
  const timer = setTimeout(() => p.kill(), 20_000);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

function expectWorkers(out: { code: number; stdout: string; stderr: string }): void {
  expect(out.stderr).toBe("");
  expect(out.code).toBe(0);
  const lines = out.stdout.trim().split("\n");
  expect(lines[0]).toMatch(/^ID\s+PLATFORMS$/);
  expect(lines[1]).toMatch(/^ts-worker-1\s+linux\/amd64,linux\/arm\/v7$/);
}

function expectDu(out: { code: number; stdout: string; stderr: string }): void {
  expect(out.stderr).toBe("");
  expect(out.code).toBe(0);
  expect(out.stdout).toMatch(/^ID\s+RECLAIMABLE\s+SIZE\s+LAST ACCESSED/);
  expect(out.stdout).toMatch(new RegExp(`^${RECORD_ID}\\s+true\\s+2\\.00MB\\s*$`, "m"));
  expect(out.stdout).toMatch(/^Total:\s+2\.00MB$/m);
}

describe.if(available())("buildctl v0.11.6 against our server", () => {
  let dir = "";
  let certs: TestCerts;
  let server: GrpcServer | undefined;
  let unixAddr = "";
  let tcpAddr = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "grpc-interop-"));
    certs = await makeCerts(dir);
    server = fakeControl(createServer());
    unixAddr = await server.listen(`unix://${join(dir, "run", "buildkitd.sock")}`);
    tcpAddr = await server.listen("tcp://127.0.0.1:0", { tls: { cert: certs.cert, key: certs.key, ca: certs.ca } });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("debug workers over a unix socket", async () => {
    expectWorkers(await buildctl(["--addr", unixAddr, "debug", "workers"]));
  }, 30_000);

  test("du over a unix socket", async () => {
    expectDu(await buildctl(["--addr", unixAddr, "du"]));
  }, 30_000);

  const tlsFlags = () => ["--addr", tcpAddr, "--tlscacert", certs.caPath, "--tlscert", certs.clientCertPath, "--tlskey", certs.clientKeyPath, "--tlsservername", "localhost"];

  test("debug workers over TCP with mutual TLS", async () => {
    expectWorkers(await buildctl([...tlsFlags(), "debug", "workers"]));
  }, 30_000);

  test("du over TCP with mutual TLS", async () => {
    expectDu(await buildctl([...tlsFlags(), "du"]));
  }, 30_000);

  test("a client without a certificate is refused", async () => {
    const out = await buildctl(["--addr", tcpAddr, "--tlscacert", certs.caPath, "--tlsservername", "localhost", "--timeout", "3", "debug", "workers"]);
    expect(out.code).not.toBe(0);
    expect(out.stdout).not.toContain("ts-worker-1");
  }, 30_000);

  test("an unimplemented method reaches buildctl as a gRPC error", async () => {
    const out = await buildctl(["--addr", unixAddr, "prune"]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain("Unimplemented");
  }, 30_000);
});
