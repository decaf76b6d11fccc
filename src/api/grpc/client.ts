// A gRPC client over node:http2: a channel to unix:///path, tcp://host:port (TLS when
// credentials are given) or any Duplex, with typed unary, server-streaming and bidi calls.
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import type { Duplex } from "node:stream";
import { ClientCall, type CallOptions } from "./client-call.ts";
import { DEFAULT_MAX_MESSAGE_SIZE } from "./framing.ts";
import { parseAddress } from "./listen.ts";
import { withPeerWindowFix } from "./window-fix.ts";
import type { Metadata } from "./metadata.ts";
import type { BidiMethod, Decoded, MessageType, Props, ServerStreamMethod, UnaryMethod } from "./method.ts";
import { GrpcError, Status } from "./status.ts";

export type { CallOptions } from "./client-call.ts";

/** PEM contents (not paths). Without a CA the system's roots verify the server. */
export interface ClientTls {
  readonly ca?: string | Uint8Array;
  readonly cert?: string | Uint8Array;
  readonly key?: string | Uint8Array;
  /** The name the server's certificate must carry (default: the address's host). */
  readonly servername?: string;
}

export interface ConnectOptions {
  /** Use TLS for tcp:// addresses. */
  readonly tls?: ClientTls;
  /** Largest response message accepted, in bytes (default 16 MiB). */
  readonly maxReceiveMessageSize?: number;
  /**
   * Correct Bun's handling of a peer's INITIAL_WINDOW_SIZE raise (window-fix.ts); default on.
   * Off for containerd, whose content Write streams end early through the shim (not yet understood).
   */
  readonly peerWindowFix?: boolean;
}

/** A server-streaming call's responses; breaking out of the loop cancels the call. */
export interface ClientReadable<Res> extends AsyncIterable<Res> {
  readonly headers: Promise<Metadata>;
  cancel(): void;
}

/** A bidi call: send requests, end() when done, read responses from messages. */
export interface ClientDuplex<Req, Res> {
  readonly messages: AsyncIterable<Res>;
  readonly headers: Promise<Metadata>;
  readonly signal: AbortSignal;
  send(message: Req): Promise<void>;
  end(): void;
  cancel(): void;
}

export class Channel {
  readonly #target: string | Duplex;
  readonly #opts: ConnectOptions;
  #session: http2.ClientHttp2Session | undefined;
  #closed = false;

  constructor(target: string | Duplex, opts: ConnectOptions = {}) {
    this.#target = target;
    this.#opts = opts;
    if (typeof target === "string") parseAddress(target); // fail early on a bad address
  }

  async unary<Req extends MessageType, Res extends MessageType>(method: UnaryMethod<Req, Res>, request: Props<Req>, opts: CallOptions = {}): Promise<Decoded<Res>> {
    const call = this.#start(method.path, opts);
    await call.send(method.requestType.encode(request).finish());
    call.end();
    let response: Uint8Array | undefined;
    for await (const m of call.messages()) {
      if (response !== undefined) {
        call.cancel(new GrpcError(Status.INTERNAL, `calling ${method.path}: more than one response message`));
      }
      response = m;
    }
    if (response === undefined) throw new GrpcError(Status.INTERNAL, `calling ${method.path}: no response message`);
    return decode(method.responseType, response, method.path);
  }

  serverStream<Req extends MessageType, Res extends MessageType>(method: ServerStreamMethod<Req, Res>, request: Props<Req>, opts: CallOptions = {}): ClientReadable<Decoded<Res>> {
    const call = this.#start(method.path, opts);
    const sent = call.send(method.requestType.encode(request).finish()).then(() => call.end());
    sent.catch(() => undefined); // the same failure surfaces when reading
    return {
      headers: call.headers,
      cancel: () => call.cancel(),
      [Symbol.asyncIterator]: () => decodeAll(call, method.responseType, method.path, sent)[Symbol.asyncIterator](),
    };
  }

  bidi<Req extends MessageType, Res extends MessageType>(method: BidiMethod<Req, Res>, opts: CallOptions = {}): ClientDuplex<Props<Req>, Decoded<Res>> {
    const call = this.#start(method.path, opts);
    return {
      messages: decodeAll(call, method.responseType, method.path),
      headers: call.headers,
      signal: call.signal,
      send: (m) => call.send(method.requestType.encode(m).finish()),
      end: () => call.end(),
      cancel: () => call.cancel(),
    };
  }

  /** Closes the connection; calls in flight are canceled. */
  async close(): Promise<void> {
    this.#closed = true;
    const session = this.#session;
    this.#session = undefined;
    if (session === undefined || session.destroyed) return;
    await new Promise<void>((resolve) => {
      session.once("close", () => resolve());
      session.destroy();
    });
  }

  #start(path: string, opts: CallOptions): ClientCall {
    if (this.#closed) throw new GrpcError(Status.UNAVAILABLE, `calling ${path}: channel is closed`);
    return new ClientCall(this.#connection(), path, { ...opts, maxReceiveMessageSize: this.#opts.maxReceiveMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE });
  }

  #connection(): http2.ClientHttp2Session {
    if (this.#session !== undefined && !this.#session.destroyed && !this.#session.closed) return this.#session;
    const session = this.#open();
    // Errors reach the calls through their streams; this keeps them from crashing the process.
    session.on("error", () => undefined);
    session.once("close", () => {
      if (this.#session === session) this.#session = undefined;
    });
    this.#session = session;
    return session;
  }

  #open(): http2.ClientHttp2Session {
    const target = this.#target;
    // Bun's http2 drops a peer's mid-stream INITIAL_WINDOW_SIZE increase (grpc-go's BDP
    // estimation sends them), which can stall a stream for good: see window-fix.ts.
    const fix = (socket: Duplex): Duplex => (this.#opts.peerWindowFix === false ? socket : withPeerWindowFix(socket, "client"));
    if (typeof target !== "string") return http2.connect("http://localhost", { createConnection: () => fix(target) });
    const address = parseAddress(target);
    if (address.kind === "unix") return http2.connect("http://localhost", { createConnection: () => fix(net.connect(address.path)) });
    const host = address.host.includes(":") ? `[${address.host}]` : address.host;
    const creds = this.#opts.tls;
    if (creds === undefined) {
      return http2.connect(`http://${host}:${address.port}`, { createConnection: () => fix(net.connect(address.port, address.host)) });
    }
    // TLS is made here rather than by http2.connect so the decrypted bytes pass through the
    // window fix too: TCP+TLS is how remote clients reach a daemon, large transfers included.
    const secure = () =>
      tls.connect({
        host: address.host,
        port: address.port,
        ALPNProtocols: ["h2"],
        ...(creds.ca === undefined ? {} : { ca: pem(creds.ca) }),
        ...(creds.cert === undefined ? {} : { cert: pem(creds.cert) }),
        ...(creds.key === undefined ? {} : { key: pem(creds.key) }),
        ...(creds.servername === undefined ? {} : { servername: creds.servername }),
      });
    return http2.connect(`https://${host}:${address.port}`, { createConnection: () => fix(secure()) });
  }
}

/** Opens a channel; the connection is made on the first call. */
export function connect(target: string | Duplex, opts: ConnectOptions = {}): Channel {
  return new Channel(target, opts);
}

function pem(v: string | Uint8Array): string | Buffer {
  return typeof v === "string" ? v : Buffer.from(v);
}

function decode<T extends MessageType>(type: T, bytes: Uint8Array, path: string): Decoded<T> {
  try {
    return type.decode(bytes) as Decoded<T>;
  } catch (err) {
    throw new GrpcError(Status.INTERNAL, `calling ${path}: decoding response: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

async function* decodeAll<T extends MessageType>(call: ClientCall, type: T, path: string, sent?: Promise<void>): AsyncGenerator<Decoded<T>> {
  for await (const bytes of call.messages()) yield decode(type, bytes, path);
  await sent;
}
