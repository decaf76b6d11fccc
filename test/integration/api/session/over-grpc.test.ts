// The session's file, secret and ssh services over the real transport: a daemon's Control.Session,
// the client's gRPC server inside it, HTTP/2 on a unix socket.
import { afterEach, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection, createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { connect } from "../../../../src/api/grpc/client.ts";
import { createServer } from "../../../../src/api/grpc/server.ts";
import { ControlService } from "../../../../src/api/grpc/services.ts";
import { fileSyncHandler } from "../../../../src/api/session/filesync/provider.ts";
import { copyToCaller, syncDir } from "../../../../src/api/session/filesync/sync.ts";
import { fileSendHandler } from "../../../../src/api/session/filesync/target.ts";
import { addSessionHandlers, sessionCaller } from "../../../../src/api/session/grpc-binding.ts";
import { getSecret, secretsHandler } from "../../../../src/api/session/secrets.ts";
import type { SessionCaller, SessionHandler } from "../../../../src/api/session/session.ts";
import { checkSshAgent, mountSshSocket, sshHandlers } from "../../../../src/api/session/ssh.ts";
import { acceptSession, openSession, type DaemonSession } from "../../../../src/api/session/tunnel.ts";
import { cleanup, closing, defer, tempDir } from "../harness.ts";

afterEach(cleanup);

/** A daemon and a client whose session serves `handlers`; returns the daemon's caller. */
async function session(handlers: SessionHandler[]): Promise<SessionCaller> {
  let accept: (s: DaemonSession) => void = () => undefined;
  const accepted = new Promise<DaemonSession>((resolve) => (accept = resolve));
  const daemon = closing(
    createServer().addService(ControlService, {
      Session: async (call) => {
        const s = acceptSession(call);
        accept(s);
        await s.closed;
      },
    }),
  );
  const address = await daemon.listen(`unix://${join(tempDir(), "d.sock")}`);
  const clientServer = closing(createServer());
  addSessionHandlers(clientServer, handlers);
  closing(openSession(closing(connect(address)), clientServer, { id: "s1", name: "test", sharedKey: "k" }));
  return sessionCaller(await accepted);
}

test("a --local dir syncs over gRPC with patterns, then incrementally", async () => {
  const src = tempDir();
  mkdirSync(`${src}/app`);
  for (let i = 0; i < 200; i++) writeFileSync(`${src}/app/f${i}.txt`, `file ${i} `.repeat(100));
  writeFileSync(`${src}/app/skip, me.log`, "log"); // a comma inside a pattern's match
  writeFileSync(`${src}/secret.env`, "no");
  const caller = await session([fileSyncHandler(new Map([["context", { dir: src }]]))]);
  const dest = tempDir();
  const first = await syncDir(caller, dest, { name: "context", includePatterns: ["app"], excludePatterns: ["*.env", "**/*.log"] });
  expect(first.files).toBe(200);
  expect(readFileSync(`${dest}/app/f7.txt`, "utf8")).toBe("file 7 ".repeat(100));
  writeFileSync(`${src}/app/f7.txt`, "changed");
  const second = await syncDir(caller, dest, { name: "context", includePatterns: ["app"], excludePatterns: ["*.env", "**/*.log"] });
  expect(second.files).toBe(1);
  expect(second.bytes / first.bytes).toBeLessThan(0.05);
  expect(readFileSync(`${dest}/app/f7.txt`, "utf8")).toBe("changed");
});

test("a local export lands in the client's directory", async () => {
  const result = tempDir();
  writeFileSync(`${result}/out.txt`, "built");
  const out = tempDir();
  const caller = await session([fileSendHandler({ kind: "dir", dir: out })]);
  await copyToCaller(caller, result);
  expect(readFileSync(`${out}/out.txt`, "utf8")).toBe("built");
});

test("secrets and ssh forwarding over gRPC", async () => {
  const agentPath = join(tempDir(), "agent.sock");
  const agent = createNetServer((c) => c.pipe(c));
  await new Promise<void>((r) => agent.listen(agentPath, r));
  defer(() => agent.close());
  const caller = await session([secretsHandler(new Map([["tok", async () => new TextEncoder().encode("v")]])), ...sshHandlers(new Map([["default", agentPath]]))]);
  expect(new TextDecoder().decode(await getSecret(caller, "tok"))).toBe("v");
  expect(await getSecret(caller, "nope").catch((e: unknown) => e)).toMatchObject({ code: "NotFound" });
  await checkSshAgent(caller);
  expect(await checkSshAgent(caller, "other").catch((e: unknown) => e)).toMatchObject({ code: "NotFound" });
  const sock = await mountSshSocket(caller);
  defer(() => sock.close());
  const echoed = await new Promise<string>((resolve, reject) => {
    let got = "";
    const c = createConnection(sock.path, () => c.end("agent request"));
    c.on("data", (d: Buffer) => (got += d.toString()));
    c.on("end", () => resolve(got));
    c.on("error", reject);
  });
  expect(echoed).toBe("agent request");
});
