// Our client and server over TCP with TLS: ALPN h2, and client certificates required and
// verified when the server has a CA.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../../../src/api/grpc/client.ts";
import { createServer } from "../../../src/api/grpc/server.ts";
import { ControlService } from "../../../src/api/grpc/services.ts";
import { GrpcError, Status } from "../../../src/api/grpc/status.ts";
import { makeCerts, type TestCerts } from "./certs.ts";
import { cleanup, closing } from "./harness.ts";

afterEach(cleanup);

const haveOpenssl = Bun.which("openssl") !== null;
if (!haveOpenssl) {
  if (process.env.CI === "true") throw new Error("grpc TLS tests cannot run under CI=true: openssl is not installed");
  console.log("skipping grpc TLS tests: openssl is not installed");
}

let dir = "";
let certs: TestCerts;
beforeAll(async () => {
  if (!haveOpenssl) return;
  dir = mkdtempSync(join(tmpdir(), "grpc-tls-"));
  certs = await makeCerts(dir);
});
afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

async function mtlsServer(): Promise<string> {
  const server = closing(createServer().addService(ControlService, { ListWorkers: async () => ({ record: [{ ID: "tls" }] }) }));
  return server.listen("tcp://127.0.0.1:0", { tls: { cert: certs.cert, key: certs.key, ca: certs.ca } });
}

async function callFails(address: string, tls: Parameters<typeof connect>[1]): Promise<GrpcError> {
  const client = closing(connect(address, tls));
  try {
    await client.unary(ControlService.methods.ListWorkers, {}, { timeout: 5000 });
  } catch (err) {
    if (err instanceof GrpcError) return err;
    throw err;
  }
  throw new Error("expected the call to be refused");
}

test.if(haveOpenssl)("a client with a certificate from the CA is served", async () => {
  const address = await mtlsServer();
  const client = closing(connect(address, { tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey, servername: "localhost" } }));
  expect((await client.unary(ControlService.methods.ListWorkers, {})).record[0]?.ID).toBe("tls");
});

test.if(haveOpenssl)("a client without a certificate is refused; a server the CA did not sign is refused", async () => {
  const address = await mtlsServer();
  expect((await callFails(address, { tls: { ca: certs.ca, servername: "localhost" } })).code).toBe(Status.UNAVAILABLE);
  // A client whose CA did not sign the server's certificate refuses the server.
  expect((await callFails(address, { tls: { ca: certs.otherCa, cert: certs.clientCert, key: certs.clientKey, servername: "localhost" } })).code).toBe(Status.UNAVAILABLE);
});

test.if(haveOpenssl)("without a CA the server accepts any TLS client", async () => {
  const server = closing(createServer().addService(ControlService, { ListWorkers: async () => ({ record: [{ ID: "one-way" }] }) }));
  const address = await server.listen("tcp://127.0.0.1:0", { tls: { cert: certs.cert, key: certs.key } });
  const client = closing(connect(address, { tls: { ca: certs.ca, servername: "localhost" } }));
  expect((await client.unary(ControlService.methods.ListWorkers, {})).record[0]?.ID).toBe("one-way");
});
