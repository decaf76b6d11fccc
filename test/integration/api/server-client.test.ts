// Our server and client over a unix socket: every call kind, metadata, status, cancellation,
// deadlines, limits, and a server that survives malformed input.
import { afterEach, expect, test } from "bun:test";
import http2 from "node:http2";
import net from "node:net";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BuildkitError } from "../../../src/core/errors.ts";
import { connect, type Channel } from "../../../src/api/grpc/client.ts";
import { encodeFrame } from "../../../src/api/grpc/framing.ts";
import { defineService } from "../../../src/api/grpc/method.ts";
import { createServer, type GrpcServer, type ServerOptions } from "../../../src/api/grpc/server.ts";
import { ControlService, HealthService } from "../../../src/api/grpc/services.ts";
import { GrpcError, Status } from "../../../src/api/grpc/status.ts";
import { apiPb } from "../../../src/api/pb/index.ts";
import { cleanup, closing, defer, tempDir } from "./harness.ts";

afterEach(cleanup);

const v1 = apiPb.moby.buildkit.v1;
/** A client-streaming method for tests: none of BuildKit's services has one. */
const TestService = defineService("test.v1.Test", { Sum: ["clientStream", v1.BytesMessage, v1.BytesMessage] });

async function start(setup: (s: GrpcServer) => void, opts: ServerOptions = {}): Promise<{ server: GrpcServer; client: Channel; address: string; dir: string }> {
  const dir = tempDir();
  const server = closing(createServer(opts));
  setup(server);
  const address = await server.listen(`unix://${join(dir, "a", "b", "grpc.sock")}`);
  const client = closing(connect(address));
  return { server, client, address, dir };
}

async function failure(p: Promise<unknown> | (() => Promise<unknown>)): Promise<GrpcError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    if (err instanceof GrpcError) return err;
    throw err;
  }
  throw new Error("expected the call to fail");
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

test("unary, server-streaming, client-streaming and bidi calls with metadata", async () => {
  const { client, address } = await start((s) => {
    s.addService(ControlService, {
      ListWorkers: async (req, call) => ({ record: [{ ID: `${req.filter.join("+")}|${String(call.metadata["x-who"])}` }] }),
      Status: async (req, call) => {
        for (let i = 0; i < 100; i++) await call.send({ vertexes: [{ digest: `${req.Ref}-${i}` }] });
      },
      Session: async (call) => {
        for await (const m of call.messages) await call.send({ data: new Uint8Array([...m.data].reverse()) });
      },
    });
    s.addService(TestService, {
      Sum: async (requests) => {
        let sum = 0;
        for await (const m of requests) sum += m.data.reduce((a, b) => a + b, 0);
        return { data: new Uint8Array([sum]) };
      },
    });
  });
  expect(address.startsWith("unix://")).toBe(true);
  expect(statSync(address.slice("unix://".length)).mode & 0o777).toBe(0o660);

  const workers = await client.unary(ControlService.methods.ListWorkers, { filter: ["a", "b"] }, { metadata: { "X-Who": "me" } });
  expect(workers.record[0]?.ID).toBe("a+b|me");

  const digests: string[] = [];
  for await (const r of client.serverStream(ControlService.methods.Status, { Ref: "r" })) digests.push(r.vertexes[0]?.digest ?? "");
  expect(digests).toHaveLength(100);
  expect(digests[99]).toBe("r-99");

  const bidi = client.bidi(ControlService.methods.Session);
  const echoed: number[][] = [];
  const reading = (async () => {
    for await (const m of bidi.messages) echoed.push([...m.data]);
  })();
  await bidi.send({ data: new Uint8Array([1, 2, 3]) });
  await bidi.send({ data: new Uint8Array([4, 5]) });
  bidi.end();
  await reading;
  expect(echoed).toEqual([[3, 2, 1], [5, 4]]);

  // The channel has no client-streaming helper (BuildKit has no such method); drive it raw.
  const raw = http2.connect("http://localhost", { createConnection: () => net.connect(address.slice("unix://".length)) });
  defer(() => raw.destroy());
  const req = raw.request({ ":method": "POST", ":path": "/test.v1.Test/Sum", "content-type": "application/grpc", te: "trailers" });
  for (const n of [1, 2, 3]) req.write(encodeFrame(v1.BytesMessage.encode({ data: new Uint8Array([n, n]) }).finish()));
  req.end();
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  expect([...v1.BytesMessage.decode(Buffer.concat(chunks).subarray(5)).data]).toEqual([12]);
});

test("errors reach the client with their code and message, before or after messages", async () => {
  const { client } = await start((s) =>
    s.addService(ControlService, {
      ListWorkers: async () => {
        throw new BuildkitError("NotFound", "finding worker w1: no such worker ✗ 100%");
      },
      Status: async (_req, call) => {
        await call.send({});
        throw new BuildkitError("FailedPrecondition", "solving: step failed");
      },
    }),
  );
  const e1 = await failure(client.unary(ControlService.methods.ListWorkers, {}));
  expect(e1.code).toBe(Status.NOT_FOUND);
  expect(e1.message).toBe("finding worker w1: no such worker ✗ 100%");

  let seen = 0;
  const e2 = await failure(async () => {
    for await (const _ of client.serverStream(ControlService.methods.Status, {})) seen++;
  });
  expect(seen).toBe(1);
  expect(e2.code).toBe(Status.FAILED_PRECONDITION);
  expect(e2.message).toBe("solving: step failed");

  const e3 = await failure(client.unary(ControlService.methods.Info, {}));
  expect(e3.code).toBe(Status.UNIMPLEMENTED);
  const e4 = await failure(client.unary(HealthService.methods.Check, {}));
  expect(e4.code).toBe(Status.UNIMPLEMENTED);
  expect(e4.message).toContain("/grpc.health.v1.Health/Check");
});

test("a client's cancel and a closed connection abort the handler's signal", async () => {
  const aborted: unknown[] = [];
  const started = deferred();
  const { address } = await start((s) =>
    s.addService(ControlService, {
      Status: async (_req, call) => {
        await call.send({});
        started.resolve();
        await new Promise<void>((resolve) => call.signal.addEventListener("abort", () => resolve()));
        aborted.push(call.signal.reason);
      },
    }),
  );
  const client = connect(address);
  const ac = new AbortController();
  const stream = client.serverStream(ControlService.methods.Status, {}, { signal: ac.signal });
  const err = failure(async () => {
    for await (const _ of stream) ac.abort();
  });
  expect((await err).code).toBe(Status.CANCELLED);
  await started.promise;
  await waitFor(() => aborted.length === 1);
  expect((aborted[0] as GrpcError).code).toBe(Status.CANCELLED);

  // Now a client that just goes away.
  const again = client.serverStream(ControlService.methods.Status, {});
  const it = again[Symbol.asyncIterator]();
  await it.next();
  await client.close();
  await waitFor(() => aborted.length === 2);
});

test("a deadline stops the call on both sides", async () => {
  const reasons: unknown[] = [];
  const { client, address } = await start((s) =>
    s.addService(ControlService, {
      Info: async (_req, call) => {
        expect(call.deadline).toBeGreaterThan(Date.now());
        await new Promise<void>((resolve) => call.signal.addEventListener("abort", () => resolve()));
        reasons.push(call.signal.reason);
        return {};
      },
    }),
  );
  const err = await failure(client.unary(ControlService.methods.Info, {}, { timeout: 150 }));
  expect(err.code).toBe(Status.DEADLINE_EXCEEDED);
  await waitFor(() => reasons.length === 1);

  // The server enforces grpc-timeout itself, whatever the client does.
  const raw = http2.connect("http://localhost", { createConnection: () => net.connect(address.slice("unix://".length)) });
  defer(() => raw.destroy());
  const req = raw.request({ ":method": "POST", ":path": "/moby.buildkit.v1.Control/Info", "content-type": "application/grpc", te: "trailers", "grpc-timeout": "100m" });
  let status: string | undefined;
  req.on("response", (h) => (status ??= h["grpc-status"] as string | undefined));
  req.on("trailers", (t) => (status = t["grpc-status"] as string | undefined));
  req.end(encodeFrame(new Uint8Array()));
  for await (const _ of req);
  expect(status).toBe(String(Status.DEADLINE_EXCEEDED));
  await waitFor(() => reasons.length === 2);
  expect((reasons[1] as GrpcError).code).toBe(Status.DEADLINE_EXCEEDED);
});

test("oversized, compressed and undecodable requests fail alone; the server keeps serving", async () => {
  const { client, address } = await start(
    (s) => s.addService(ControlService, { ListWorkers: async () => ({ record: [{ ID: "ok" }] }), Solve: async (req) => ({ ExporterResponse: { n: String(req.Definition.length) } }) }),
    { maxReceiveMessageSize: 1024 },
  );
  const big = await failure(client.unary(ControlService.methods.Solve, { Definition: new Uint8Array(2000) }));
  expect(big.code).toBe(Status.RESOURCE_EXHAUSTED);
  expect((await client.unary(ControlService.methods.Solve, { Definition: new Uint8Array(1000) })).ExporterResponse.n).toBe("1000");

  const raw = http2.connect("http://localhost", { createConnection: () => net.connect(address.slice("unix://".length)) });
  defer(() => raw.destroy());
  const rawCall = async (body: Uint8Array): Promise<string | undefined> => {
    const req = raw.request({ ":method": "POST", ":path": "/moby.buildkit.v1.Control/ListWorkers", "content-type": "application/grpc", te: "trailers" });
    let status: string | undefined;
    req.on("response", (h) => (status ??= h["grpc-status"] as string | undefined));
    req.on("trailers", (t) => (status = t["grpc-status"] as string | undefined));
    req.end(body);
    for await (const _ of req);
    return status;
  };
  expect(await rawCall(new Uint8Array([1, 0, 0, 0, 1, 0]))).toBe(String(Status.UNIMPLEMENTED));
  expect(await rawCall(encodeFrame(new Uint8Array([0xff, 0xff, 0xff])))).toBe(String(Status.INTERNAL));
  expect(await rawCall(new Uint8Array([0, 0, 0]))).toBe(String(Status.INTERNAL));
  expect(await rawCall(encodeFrame(new Uint8Array()))).toBe(String(Status.OK));
  expect((await client.unary(ControlService.methods.ListWorkers, {})).record[0]?.ID).toBe("ok");
});

test("garbage bytes on the socket leave the server serving", async () => {
  const { client, address } = await start((s) => s.addService(ControlService, { ListWorkers: async () => ({ record: [{ ID: "ok" }] }) }));
  for (const junk of ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\u0000\u0001garbage".repeat(100), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff"]) {
    const sock = net.connect(address.slice("unix://".length));
    defer(() => sock.destroy());
    sock.on("error", () => undefined);
    const closed = new Promise<void>((resolve) => sock.once("close", () => resolve()));
    sock.on("data", () => undefined);
    sock.write(junk);
    await closed;
  }
  expect((await client.unary(ControlService.methods.ListWorkers, {})).record[0]?.ID).toBe("ok");
});

test("close() cancels calls in flight, stops listening and removes the socket", async () => {
  const started = deferred();
  const { server, client, address } = await start((s) =>
    s.addService(ControlService, {
      Status: async (_req, call) => {
        await call.send({});
        started.resolve();
        await new Promise<void>((resolve) => call.signal.addEventListener("abort", () => resolve()));
      },
    }),
  );
  const reading = failure(async () => {
    for await (const _ of client.serverStream(ControlService.methods.Status, {}));
  });
  await started.promise;
  await server.close();
  expect((await reading).code).toBe(Status.UNAVAILABLE);
  const path = address.slice("unix://".length);
  expect(() => statSync(path)).toThrow();
});

test("a stale socket file is replaced; a live one or a regular file is not", async () => {
  const dir = tempDir();
  const path = join(dir, "s.sock");
  const stale = net.createServer();
  await new Promise<void>((r) => stale.listen(path, () => r()));
  // Closing a Bun/Node unix listener may unlink the file: recreate a dead socket file by hand if so.
  const live = closing(createServer());
  expect((await failure(live.listen(`unix://${path}`).catch((e) => Promise.reject(new GrpcError(Status.ALREADY_EXISTS, String(e)))))).message).toContain("another server is listening");
  stale.close();
  await new Promise((r) => setTimeout(r, 50));
  await live.listen(`unix://${path}`);

  const filePath = join(dir, "file");
  writeFileSync(filePath, "keep me");
  const other = closing(createServer());
  expect(await other.listen(`unix://${filePath}`).then(() => "listened", (e: unknown) => String(e))).toContain("not a socket");
});

test("tcp:// needs TLS unless insecure is asked for", async () => {
  const server = closing(createServer().addService(ControlService, { ListWorkers: async () => ({ record: [{ ID: "tcp" }] }) }));
  expect(await server.listen("tcp://127.0.0.1:0").then(() => "listened", (e: unknown) => String(e))).toContain("TLS certificate and key are required");
  const address = await server.listen("tcp://127.0.0.1:0", { insecure: true });
  const client = closing(connect(address));
  expect((await client.unary(ControlService.methods.ListWorkers, {})).record[0]?.ID).toBe("tcp");
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}
