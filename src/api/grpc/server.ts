// A gRPC server over node:http2: typed handlers registered per method, served on unix/TCP/TLS
// listeners and on any Duplex (a connection nested in another stream).
import http2 from "node:http2";
import net from "node:net";
import type { Duplex } from "node:stream";
import { unlink } from "node:fs/promises";
import { DEFAULT_MAX_MESSAGE_SIZE } from "./framing.ts";
import { runHandler, type Handler, type ServiceHandlers } from "./handlers.ts";
import { bind, checkListenOptions, createTlsListener, parseAddress, type ListenOptions } from "./listen.ts";
import type { MethodDescriptor, ServiceDescriptor } from "./method.ts";
import { ServerCall } from "./server-call.ts";
import { withPeerWindowFix } from "./window-fix.ts";
import { GrpcError, Status } from "./status.ts";

export interface ServerOptions {
  /** Largest request message accepted, in bytes (default 16 MiB). */
  readonly maxReceiveMessageSize?: number;
}

type Route = (call: ServerCall) => Promise<void>;

/** How long close() lets sessions end gracefully before it drops them. */
const CLOSE_GRACE_MS = 2000;

export class GrpcServer {
  readonly #maxReceiveMessageSize: number;
  readonly #routes = new Map<string, Route>();
  /** Each listening address: the socket (or TLS) listener and the HTTP/2 server behind it. */
  readonly #servers: Array<{ server: http2.Http2Server; listener: net.Server; socketPath?: string }> = [];
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  readonly #calls = new Set<ServerCall>();
  #connectionServer: http2.Http2Server | undefined;
  #closing = false;

  constructor(opts: ServerOptions = {}) {
    this.#maxReceiveMessageSize = opts.maxReceiveMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  }

  /** Registers one method's handler. */
  add<D extends MethodDescriptor>(method: D, handler: Handler<D>): this {
    this.#routes.set(method.path, (call) => runHandler(method, handler as Handler<MethodDescriptor>, call));
    return this;
  }

  /** Registers handlers for a service's methods; methods left out answer UNIMPLEMENTED. */
  addService<S extends ServiceDescriptor>(service: S, handlers: ServiceHandlers<S>): this {
    for (const [name, method] of Object.entries(service.methods)) {
      const handler = (handlers as Record<string, Handler<MethodDescriptor> | undefined>)[name];
      if (handler !== undefined) this.add(method, handler);
    }
    return this;
  }

  /** The paths ("/pkg.Service/Method") this server answers. */
  get methods(): string[] {
    return [...this.#routes.keys()];
  }

  /** Listens on unix:///path or tcp://host:port; resolves with the bound address. */
  async listen(address: string, opts: ListenOptions = {}): Promise<string> {
    if (this.#closing) throw new GrpcError(Status.UNAVAILABLE, `listening on ${address}: server is closed`);
    const parsed = parseAddress(address);
    checkListenOptions(parsed, opts);
    const server = http2.createServer({ allowHTTP1: false } as http2.ServerOptions);
    this.#attach(server);
    // Every connection, plain or TLS, goes through the window fix, as nested ones do
    // (window-fix.ts): without it, a grpc-go client's mid-stream INITIAL_WINDOW_SIZE raise left
    // a Session message buffered and never sent (buildctl then saw DATA for a stream whose
    // HEADERS never came).
    const serve = (socket: Duplex) => server.emit("connection", withPeerWindowFix(socket, "server"));
    const listener: net.Server = opts.tls === undefined ? net.createServer(serve) : createTlsListener(opts.tls, serve);
    listener.on("error", () => undefined);
    const bound = await bind(listener, parsed);
    this.#servers.push({ server, listener, ...(parsed.kind === "unix" ? { socketPath: parsed.path } : {}) });
    return bound;
  }

  /** Serves one HTTP/2 connection carried by a Duplex; resolves when it closes. */
  serveConnection(conn: Duplex): Promise<void> {
    if (this.#connectionServer === undefined) {
      this.#connectionServer = http2.createServer({ allowHTTP1: false } as http2.ServerOptions);
      this.#attach(this.#connectionServer);
    }
    const closed = new Promise<void>((resolve) => {
      conn.once("close", () => resolve());
    });
    if (this.#closing) conn.destroy();
    // See window-fix.ts: a grpc-go client raises INITIAL_WINDOW_SIZE mid-stream.
    else this.#connectionServer.emit("connection", withPeerWindowFix(conn, "server"));
    return closed;
  }

  /** Stops listening, cancels calls in flight, and resolves once every connection is gone. */
  async close(): Promise<void> {
    this.#closing = true;
    const stopped = this.#servers.map(({ listener }) => new Promise<void>((resolve) => listener.close(() => resolve())));
    for (const call of this.#calls) call.cancel(new GrpcError(Status.UNAVAILABLE, "server is shutting down"));
    const sessions = [...this.#sessions].map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.destroyed) return resolve();
          s.once("close", () => resolve());
          const timer = setTimeout(() => s.destroy(), CLOSE_GRACE_MS);
          timer.unref?.();
          s.close(() => clearTimeout(timer));
        }),
    );
    await Promise.all([...stopped, ...sessions]);
    await Promise.all(this.#servers.flatMap(({ socketPath }) => (socketPath === undefined ? [] : [unlink(socketPath).catch(() => undefined)])));
  }

  #attach(server: http2.Http2Server): void {
    server.on("session", (session: http2.ServerHttp2Session) => {
      this.#sessions.add(session);
      session.on("close", () => this.#sessions.delete(session));
      // A session's errors also reach its streams; without a listener they would crash us.
      session.on("error", () => undefined);
      if (this.#closing) session.destroy();
    });
    // Bytes that are not HTTP/2 (or a broken peer): drop that connection, keep serving.
    server.on("sessionError", (_err: Error, session?: http2.ServerHttp2Session) => session?.destroy());
    server.on("unknownProtocol", (socket: Duplex) => socket.destroy());
    server.on("error", () => undefined);
    server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => this.#dispatch(stream, headers));
  }

  #dispatch(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const contentType = headers["content-type"];
    if (headers[":method"] !== "POST" || typeof contentType !== "string" || !contentType.startsWith("application/grpc")) {
      stream.on("error", () => undefined);
      stream.respond({ ":status": headers[":method"] !== "POST" ? 405 : 415 }, { endStream: true });
      return;
    }
    const call = new ServerCall(stream, headers, {
      maxReceiveMessageSize: this.#maxReceiveMessageSize,
      onDone: () => this.#calls.delete(call),
    });
    this.#calls.add(call);
    const path = String(headers[":path"] ?? "");
    const route = this.#routes.get(path);
    if (this.#closing) call.cancel(new GrpcError(Status.UNAVAILABLE, "server is shutting down"));
    else if (call.badRequest !== undefined) call.finish(call.badRequest);
    else if (route === undefined) call.finish(new GrpcError(Status.UNIMPLEMENTED, `unknown method ${path}`));
    else if (!call.signal.aborted) void route(call);
  }
}

export function createServer(opts: ServerOptions = {}): GrpcServer {
  return new GrpcServer(opts);
}
