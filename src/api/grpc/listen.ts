// Binding an HTTP/2 server to an address: unix:///path, or tcp://host:port with TLS (plain
// TCP only when asked for). Go's gRPC clients speak h2c with prior knowledge over unix and
// plain TCP, and negotiate "h2" with ALPN over TLS.
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import { chmod, lstat, mkdir, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { BuildkitError, invalidArgument } from "../../core/errors.ts";

/** PEM contents (not paths). With a CA, clients must present a certificate it signed. */
export interface ServerTls {
  readonly cert: string | Uint8Array;
  readonly key: string | Uint8Array;
  readonly ca?: string | Uint8Array;
}

export interface ListenOptions {
  readonly tls?: ServerTls;
  /** Allows tcp:// without TLS. */
  readonly insecure?: boolean;
}

export type ParsedAddress = { readonly kind: "unix"; readonly path: string } | { readonly kind: "tcp"; readonly host: string; readonly port: number };

/** unix:///abs/path (or unix:path) and tcp://host:port. */
export function parseAddress(address: string): ParsedAddress {
  if (address.startsWith("unix://")) return { kind: "unix", path: address.slice("unix://".length) };
  if (address.startsWith("unix:")) return { kind: "unix", path: address.slice("unix:".length) };
  if (address.startsWith("tcp://")) {
    const url = new URL(`http://${address.slice("tcp://".length)}`);
    const port = Number(url.port);
    if (url.port === "" || !Number.isInteger(port)) throw invalidArgument(`parsing address ${address}: a port is required`);
    return { kind: "tcp", host: url.hostname.replace(/^\[|\]$/g, ""), port };
  }
  throw invalidArgument(`parsing address ${address}: expected unix:///path or tcp://host:port`);
}

/** Refuses tcp:// without TLS unless insecure TCP was asked for. */
export function checkListenOptions(address: ParsedAddress, opts: ListenOptions): void {
  if (address.kind === "tcp" && opts.tls === undefined && opts.insecure !== true) {
    throw invalidArgument(`listening on tcp://${address.host}:${address.port}: TLS certificate and key are required (or allow insecure TCP explicitly)`);
  }
}

/**
 * A TLS listener handing each handshaken "h2" connection to onConnection. TLS is ended here,
 * not inside node:http2, so the decrypted bytes can pass through the window fix like a plain
 * connection's (window-fix.ts). With a CA, clients must present a certificate it signed.
 */
export function createTlsListener(opts: ServerTls, onConnection: (socket: tls.TLSSocket) => void): tls.Server {
  const { cert, key, ca } = opts;
  const server = tls.createServer(
    {
      ALPNProtocols: ["h2"],
      cert: toPem(cert),
      key: toPem(key),
      ...(ca === undefined ? {} : { ca: toPem(ca), requestCert: true, rejectUnauthorized: true }),
    },
    (socket) => {
      // gRPC speaks HTTP/2 only; anything else negotiated (or nothing) is dropped, as
      // node:http2's secure server does without allowHTTP1.
      if (socket.alpnProtocol !== "h2") socket.destroy();
      else onConnection(socket);
    },
  );
  // A failed handshake (no or a wrong client certificate) ends that connection only.
  server.on("tlsClientError", () => undefined);
  return server;
}

function toPem(v: string | Uint8Array): string | Buffer {
  return typeof v === "string" ? v : Buffer.from(v);
}

/** Starts listening; resolves with the bound address (a tcp port of 0 resolved). */
export async function bind(server: net.Server, address: ParsedAddress): Promise<string> {
  if (address.kind === "unix") await prepareSocketPath(address.path);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      server.off("error", reject);
      resolve();
    };
    if (address.kind === "unix") server.listen(address.path, done);
    else server.listen(address.port, address.host, done);
  });
  if (address.kind === "unix") {
    await chmod(address.path, 0o660);
    return `unix://${address.path}`;
  }
  const bound = server.address();
  const port = typeof bound === "object" && bound !== null ? bound.port : address.port;
  return `tcp://${address.host.includes(":") ? `[${address.host}]` : address.host}:${port}`;
}

/** Makes the parent directory; removes a stale socket, refusing one that still answers. */
async function prepareSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const st = await lstat(path).catch(() => undefined);
  if (st === undefined) return;
  if (!st.isSocket()) throw new BuildkitError("AlreadyExists", `listening on unix://${path}: a file that is not a socket is in the way`);
  if (await answers(path)) throw new BuildkitError("AlreadyExists", `listening on unix://${path}: another server is listening there`);
  await unlink(path);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
