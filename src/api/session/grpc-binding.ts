/**
 * The session services on the gRPC layer (src/api/grpc, src/api/session/tunnel.ts): a
 * {@link SessionCaller} over the daemon's side of a client's session, and the client's
 * {@link SessionHandler}s registered on the gRPC server it runs inside its session.
 */
import type { ClientDuplex } from "../grpc/client.ts";
import type { ServerDuplex } from "../grpc/handlers.ts";
import { metadataValues } from "../grpc/metadata.ts";
import type { Metadata as GrpcMetadata } from "../grpc/metadata.ts";
import type { MessageType, MethodDescriptor } from "../grpc/method.ts";
import type { GrpcServer } from "../grpc/server.ts";
import type { CallContext } from "../grpc/server-call.ts";
import { GrpcError, toBuildkitError } from "../grpc/status.ts";
import type { Metadata, MessageStream, Method, SessionCaller, SessionHandler } from "./session.ts";
import type { DaemonSession } from "./tunnel.ts";

/** Daemon side: call the client's services through its session. */
export function sessionCaller(session: DaemonSession): SessionCaller {
  return {
    id: session.id,
    name: session.name,
    sharedKey: session.sharedKey,
    supports: (path) => session.supports(path),
    unary: async (method, request, opts = {}) => {
      try {
        return (await session.channel.unary(descriptor(method, "unary"), request as object, callOptions(opts))) as Awaited<ReturnType<typeof method.decodeResponse>>;
      } catch (err) {
        throw err instanceof GrpcError ? toBuildkitError(err) : err;
      }
    },
    stream: (method, opts = {}) => {
      const call = session.channel.bidi(descriptor(method, "bidi"), callOptions(opts)) as ClientDuplex<object, unknown>;
      return fromDuplex(call.messages, (m) => call.send(m as object), () => call.end(), call.signal) as MessageStream<
        ReturnType<typeof method.decodeResponse>,
        Parameters<typeof method.encodeRequest>[0]
      >;
    },
  };
}

/** Client side: registers `handlers` on the server that answers the daemon in a session. */
export function addSessionHandlers(server: GrpcServer, handlers: readonly SessionHandler[]): void {
  for (const handler of handlers) {
    const method = handler.method;
    if (handler.kind === "unary") {
      server.add(serverDescriptor(method, "unary"), (request: unknown, call: CallContext) =>
        handler.handle(request, { metadata: toMetadata(call.metadata), signal: call.signal }) as Promise<object>,
      );
    } else {
      server.add(serverDescriptor(method, "bidi"), async (call: ServerDuplex<unknown, object>) => {
        const stream = fromDuplex(call.messages, (m) => call.send(m as object), () => undefined, call.signal);
        await handler.handle(stream, { metadata: toMetadata(call.metadata), signal: call.signal });
      });
    }
  }
}

/** A message type for the gRPC layer made of one side of our method's codecs. */
function messageType(encode: (m: never) => Uint8Array, decode: (b: Uint8Array) => unknown): MessageType {
  return { encode: (m: object) => ({ finish: () => encode(m as never) }), decode: (b) => decode(b) as object };
}

/** The caller's view: it encodes requests and decodes responses. */
function descriptor<K extends "unary" | "bidi", Req, Res>(method: Method<Req, Res>, kind: K): MethodDescriptor<K> {
  const requestType = messageType(method.encodeRequest as (m: never) => Uint8Array, method.decodeRequest);
  const responseType = messageType(method.encodeResponse as (m: never) => Uint8Array, method.decodeResponse);
  return { path: method.path, kind, requestType, responseType };
}

function serverDescriptor<K extends "unary" | "bidi">(method: Method<unknown, unknown>, kind: K): MethodDescriptor<K> {
  return descriptor(method, kind);
}

/** A MessageStream over an async iterable of messages; gRPC failures become BuildkitErrors. */
function fromDuplex<In, Out>(messages: AsyncIterable<In>, send: (m: Out) => Promise<void>, end: () => void, signal: AbortSignal): MessageStream<In, Out> {
  // One iterator, never returned early: returning it would cancel the call.
  const iterator = messages[Symbol.asyncIterator]();
  const mapError = (err: unknown) => (err instanceof GrpcError ? toBuildkitError(err) : err);
  return {
    recv: async () => {
      try {
        const next = await iterator.next();
        return next.done ? undefined : next.value;
      } catch (err) {
        throw mapError(err);
      }
    },
    send: async (m) => {
      try {
        await send(m);
      } catch (err) {
        throw mapError(err);
      }
    },
    end,
    signal,
  };
}

function callOptions(opts: { metadata?: Metadata; signal?: AbortSignal }): { metadata?: GrpcMetadata; signal?: AbortSignal } {
  return { ...(opts.metadata ? { metadata: opts.metadata } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
}

/**
 * Metadata with every value of a key as its own string. A repeated header can arrive joined
 * with ", " (node:http2 does so), so values are split on commas, as the gRPC layer reads them.
 */
function toMetadata(md: GrpcMetadata): Metadata {
  const out: Record<string, readonly string[]> = {};
  for (const key of Object.keys(md)) out[key] = metadataValues(md, key);
  return out;
}
