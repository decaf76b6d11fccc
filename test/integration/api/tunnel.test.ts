// The Control.Session tunnel: a client serves gRPC services through its Session stream and the
// daemon calls them over a nested HTTP/2 connection.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { connect } from "../../../src/api/grpc/client.ts";
import { createServer, type GrpcServer } from "../../../src/api/grpc/server.ts";
import { ControlService, FileSendService, HealthService, SecretsService } from "../../../src/api/grpc/services.ts";
import { GrpcError, Status } from "../../../src/api/grpc/status.ts";
import { acceptSession, openSession, type DaemonSession } from "../../../src/api/session/tunnel.ts";
import { cleanup, closing, tempDir } from "./harness.ts";

afterEach(cleanup);

/** A daemon whose Control.Session hands each accepted session to the test. */
async function daemon(): Promise<{ address: string; sessions: AsyncIterator<DaemonSession>; ended: string[] }> {
  const queue: DaemonSession[] = [];
  const waiting: Array<(s: DaemonSession) => void> = [];
  const ended: string[] = [];
  const server = closing(
    createServer().addService(ControlService, {
      Session: async (call) => {
        const session = acceptSession(call);
        const w = waiting.shift();
        if (w !== undefined) w(session);
        else queue.push(session);
        await session.closed;
        ended.push(session.id);
      },
    }),
  );
  const address = await server.listen(`unix://${join(tempDir(), "d.sock")}`);
  const sessions: AsyncIterator<DaemonSession> = {
    next: () => {
      const s = queue.shift();
      if (s !== undefined) return Promise.resolve({ value: s, done: false });
      return new Promise((resolve) => waiting.push((v) => resolve({ value: v, done: false })));
    },
  };
  return { address, sessions, ended };
}

function clientServices(): GrpcServer {
  return closing(
    createServer()
      .addService(HealthService, { Check: async () => ({ status: 1 }) })
      .addService(SecretsService, { GetSecret: async (req) => ({ data: new TextEncoder().encode(`secret of ${req.ID}`) }) })
      .addService(FileSendService, {
        DiffCopy: async (call) => {
          for await (const m of call.messages) await call.send({ data: m.data });
        },
      }),
  );
}

test("the daemon calls the client's services through the session stream", async () => {
  const d = await daemon();
  const channel = closing(connect(d.address));
  const client = closing(openSession(channel, clientServices(), { id: "sess-1", name: "ctx", sharedKey: "key-1" }));
  const session = (await d.sessions.next()).value;
  expect([session.id, session.name, session.sharedKey]).toEqual(["sess-1", "ctx", "key-1"]);
  expect(session.supports("/grpc.health.v1.Health/Check")).toBe(true);
  expect(session.supports("/moby.filesync.v1.FileSend/DiffCopy")).toBe(true);
  expect(session.supports("/moby.sshforward.v1.SSH/CheckAgent")).toBe(false);

  expect((await session.channel.unary(HealthService.methods.Check, {})).status).toBe(1);
  const secret = await session.channel.unary(SecretsService.methods.GetSecret, { ID: "npm" });
  expect(new TextDecoder().decode(secret.data)).toBe("secret of npm");

  // A bidi stream inside the tunnel, several MiB each way.
  const call = session.channel.bidi(FileSendService.methods.DiffCopy);
  let received = 0;
  const reading = (async () => {
    for await (const m of call.messages) received += m.data.length;
  })();
  const chunk = new Uint8Array(256 * 1024).fill(7);
  for (let i = 0; i < 16; i++) await call.send({ data: chunk });
  call.end();
  await reading;
  expect(received).toBe(16 * chunk.length);

  await client.close();
  await session.closed;
  await waitFor(() => d.ended.includes("sess-1"));
});

test("two sessions on one connection stay apart; closing the daemon's side ends the client's", async () => {
  const d = await daemon();
  const channel = closing(connect(d.address));
  const a = closing(openSession(channel, clientServices(), { id: "a" }));
  closing(openSession(channel, createServer().addService(HealthService, { Check: async () => ({ status: 2 }) }), { id: "b" }));
  const first = (await d.sessions.next()).value;
  const second = (await d.sessions.next()).value;
  const byId = new Map([first, second].map((s) => [s.id, s]));
  expect((await byId.get("a")?.channel.unary(HealthService.methods.Check, {}))?.status).toBe(1);
  expect((await byId.get("b")?.channel.unary(HealthService.methods.Check, {}))?.status).toBe(2);
  await byId.get("a")?.close();
  await a.closed;
});

test("a Session call without a session id is refused", async () => {
  const d = await daemon();
  const channel = closing(connect(d.address));
  const call = channel.bidi(ControlService.methods.Session);
  call.end();
  let err: unknown;
  try {
    for await (const _ of call.messages);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(GrpcError);
  expect((err as GrpcError).code).toBe(Status.INVALID_ARGUMENT);
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}
