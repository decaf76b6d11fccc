// A peer that behaves like grpc-go's BDP estimation: on an open stream that has already had a
// WINDOW_UPDATE, it raises SETTINGS_INITIAL_WINDOW_SIZE (65,535 -> 95,640, as buildkitd did) and
// then grants nothing more. The increase is credit our side may use (RFC 9113 §6.9.2); Bun's
// http2 on its own drops it, and against grpc-go, which waits for a quarter of its now larger
// window to be read before granting more, the stream stalls for good (src/api/grpc/window-fix.ts).
import { afterEach, expect, test } from "bun:test";
import http2 from "node:http2";
import net from "node:net";
import { connect } from "../../../src/api/grpc/client.ts";
import { withPeerWindowFix } from "../../../src/api/grpc/window-fix.ts";
import { ControlService } from "../../../src/api/grpc/services.ts";

const NEW_WINDOW = 95640;
const FIRST_UPDATE = 65535;
/** What the peer has granted stream 1: exactly this much may arrive, no more. */
const CREDIT = 65535 + FIRST_UPDATE + (NEW_WINDOW - 65535);
const CONN_WINDOW = 8 << 20;

function frame(type: number, flags: number, id: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(id, 5);
  return Buffer.concat([h, payload]);
}
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const setting = (id: number, value: number) => Buffer.concat([Buffer.from([id >> 8, id & 0xff]), u32(value)]);

/** A raw HTTP/2 server: counts the DATA bytes received on stream 1, never grants stream credit. */
function rawPeer(): Promise<{ port: number; received: () => number; server: net.Server }> {
  let received = 0;
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    let preface = false;
    sock.on("error", () => undefined);
    // Its settings, and plenty of connection credit (the connection window is not under test).
    sock.write(Buffer.concat([frame(4, 0, 0), frame(8, 0, 0, u32(CONN_WINDOW))]));
    sock.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!preface) {
        if (buf.length < 24) return;
        buf = buf.subarray(24);
        preface = true;
      }
      while (buf.length >= 9) {
        const length = buf.readUIntBE(0, 3);
        if (buf.length < 9 + length) return;
        const [type, flags, id] = [buf[3]!, buf[4]!, buf.readUInt32BE(5) & 0x7fffffff];
        buf = buf.subarray(9 + length);
        if (type === 4 && (flags & 1) === 0) sock.write(frame(4, 1, 0)); // SETTINGS ACK
        // The stream is open: some credit, then a raised initial window, as from grpc-go.
        if (type === 1 && id === 1) sock.write(Buffer.concat([frame(8, 0, 1, u32(FIRST_UPDATE)), frame(4, 0, 0, setting(4, NEW_WINDOW))]));
        if (type === 0 && id === 1) received += length;
      }
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as net.AddressInfo).port, received: () => received, server })));
}

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await Bun.sleep(20);
}

const TOTAL = 512 * 1024; // more than the peer grants

/** Writes TOTAL bytes on one stream of session; resolves with what the peer received. */
async function sendOver(session: http2.ClientHttp2Session, peer: { received: () => number }): Promise<number> {
  const stream = session.request({ ":method": "POST", ":path": "/x", "content-type": "application/grpc" });
  stream.on("error", () => undefined);
  for (let sent = 0; sent < TOTAL; sent += 16384) stream.write(Buffer.alloc(16384));
  await until(() => peer.received() >= CREDIT, 2000);
  await Bun.sleep(200); // anything beyond the credit would arrive now
  const got = peer.received();
  session.destroy();
  return got;
}

test("a raised INITIAL_WINDOW_SIZE is credit for an open stream (through the shim)", async () => {
  const peer = await rawPeer();
  servers.push(peer.server);
  const session = http2.connect("http://localhost", { createConnection: () => withPeerWindowFix(net.connect(peer.port, "127.0.0.1"), "client") });
  session.on("error", () => undefined);
  expect(await sendOver(session, peer)).toBe(CREDIT);
});

test("a gRPC channel's call uses the whole credit after the peer raises the window", async () => {
  const peer = await rawPeer();
  servers.push(peer.server);
  const channel = connect(`tcp://127.0.0.1:${peer.port}`);
  const call = channel.bidi(ControlService.methods.Session);
  const sending = (async () => {
    for (let i = 0; i < 32; i++) await call.send({ data: new Uint8Array(16384) });
  })();
  sending.catch(() => undefined);
  await until(() => peer.received() >= CREDIT, 2000);
  await Bun.sleep(200);
  expect(peer.received()).toBe(CREDIT);
  await channel.close();
});

// Documents the Bun behaviour the shim exists for; when it fails, Bun applies the increase
// itself and the shim can go (it must then not grant the credit twice).
test("Bun's http2 alone drops the increase", async () => {
  const peer = await rawPeer();
  servers.push(peer.server);
  const session = http2.connect(`http://127.0.0.1:${peer.port}`);
  session.on("error", () => undefined);
  expect(await sendOver(session, peer)).toBe(65535 + FIRST_UPDATE);
});
