import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import type { Server } from "node:net";
import { createLocalCaller } from "../../../../src/api/session/local-caller.ts";
import { MAX_SECRET_SIZE, getSecret, secretsHandler } from "../../../../src/api/session/secrets.ts";
import { checkSshAgent, mountSshSocket, sshHandlers } from "../../../../src/api/session/ssh.ts";
import { cleanup, tempDir } from "./helpers.ts";

afterEach(cleanup);

describe("secrets", () => {
  const secrets = new Map([
    ["token", async () => new TextEncoder().encode("s3cr3t")],
    ["huge", async () => new Uint8Array(MAX_SECRET_SIZE + 1)],
  ]);
  const caller = createLocalCaller([secretsHandler(secrets)]);

  test("the daemon reads a secret the client has", async () => {
    expect(new TextDecoder().decode(await getSecret(caller, "token"))).toBe("s3cr3t");
  });

  test("a secret the client lacks is NotFound, naming it", async () => {
    const err = await getSecret(caller, "missing").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "NotFound", message: "secret missing not found: pass it with --secret id=missing,src=PATH" });
  });

  test("a client serving no secrets: NotFound too", async () => {
    await expect(getSecret(createLocalCaller([]), "token")).rejects.toMatchObject({ code: "NotFound" });
  });

  test("a secret over 500 KiB is refused", async () => {
    await expect(getSecret(caller, "huge")).rejects.toThrow("more than the 512000 allowed");
  });
});

/** A fake agent: echoes every byte back. */
async function echoAgent(path: string): Promise<Server> {
  const server = createServer((conn) => conn.pipe(conn));
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return server;
}

/** Connects to `path`, writes `data`, half-closes and collects everything read until the end. */
function roundTrip(path: string, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const conn = createConnection(path, () => conn.end(data));
    conn.on("data", (c: Buffer) => chunks.push(c));
    conn.on("end", () => resolve(Buffer.concat(chunks)));
    conn.on("error", reject);
  });
}

describe("ssh forwarding", () => {
  test("bytes go to the client's agent and back, per connection", async () => {
    const agentPath = `${tempDir()}/agent.sock`;
    const agent = await echoAgent(agentPath);
    const caller = createLocalCaller(sshHandlers(new Map([["default", agentPath]])));
    await checkSshAgent(caller, "default");
    const socket = await mountSshSocket(caller, { mode: 0o600 });
    try {
      expect(statSync(socket.path).mode & 0o777).toBe(0o600);
      const big = Buffer.alloc(1_000_000);
      for (let i = 0; i < big.length; i++) big[i] = i % 253;
      const [a, b] = await Promise.all([roundTrip(socket.path, Buffer.from("hello")), roundTrip(socket.path, big)]);
      expect(a.toString()).toBe("hello");
      expect(b.equals(big)).toBe(true);
    } finally {
      await socket.close();
      agent.close();
    }
    expect(existsSync(socket.path)).toBe(false);
  });

  test("the agent id travels in the metadata", async () => {
    const dir = tempDir();
    const agentA = await echoAgent(`${dir}/a.sock`);
    const caller = createLocalCaller(sshHandlers(new Map([["work", `${dir}/a.sock`]])));
    const socket = await mountSshSocket(caller, { id: "work" });
    try {
      expect((await roundTrip(socket.path, Buffer.from("ping"))).toString()).toBe("ping");
    } finally {
      await socket.close();
      agentA.close();
    }
  });

  test("an agent the client does not forward fails the check, naming the id", async () => {
    const caller = createLocalCaller(sshHandlers(new Map()));
    await expect(checkSshAgent(caller, "deploy")).rejects.toMatchObject({
      code: "NotFound",
      message: "ssh agent deploy not found: pass it with --ssh deploy=SOCKET",
    });
  });
});
