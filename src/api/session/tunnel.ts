// Both ends of a session: a client exposes gRPC services to the daemon through its
// Control.Session stream. The client runs a gRPC server on the nested connection; the daemon
// is that connection's gRPC client (as in BuildKit's session manager).
import type { Duplex } from "node:stream";
import { connect, type Channel } from "../grpc/client.ts";
import type { ServerDuplex } from "../grpc/handlers.ts";
import type { Decoded, Props } from "../grpc/method.ts";
import type { GrpcServer } from "../grpc/server.ts";
import { ControlService } from "../grpc/services.ts";
import { bytesStreamDuplex } from "./bytes-duplex.ts";
import { parseSessionMetadata, sessionMetadata, type SessionInfo } from "./session-metadata.ts";

type BytesMessageType = typeof ControlService.methods.Session.requestType;
/** The daemon's side of a Control.Session call, as its handler receives it. */
export type SessionCall = ServerDuplex<Decoded<BytesMessageType>, Props<BytesMessageType>>;

/** A client's session as the daemon sees it: call the client's services on channel. */
export interface DaemonSession extends SessionInfo {
  readonly channel: Channel;
  /** Resolves when the session's connection is gone. */
  readonly closed: Promise<void>;
  /** Whether the client said it serves this method path. */
  supports(path: string): boolean;
  close(): Promise<void>;
}

/**
 * Accepts a session in the Control.Session handler; the handler should return once `closed`
 * resolves. Throws InvalidArgument when the call carries no session id.
 */
export function acceptSession(call: SessionCall): DaemonSession {
  const info = parseSessionMetadata(call.metadata);
  const conn = bytesStreamDuplex(call);
  const channel = connect(conn);
  const closed = closedPromise(conn);
  const methods = new Set(info.methods);
  return {
    ...info,
    channel,
    closed,
    supports: (path) => methods.has(path),
    close: async () => {
      await channel.close();
      conn.destroy();
      await closed;
    },
  };
}

export interface OpenSessionOptions {
  readonly id: string;
  readonly name?: string;
  readonly sharedKey?: string;
  readonly signal?: AbortSignal;
}

/** A session opened by a client: its services are served until close(). */
export interface ClientSession {
  readonly id: string;
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens Control.Session on channel and serves `server`'s methods over it; the methods it lists
 * are announced in the session headers.
 */
export function openSession(channel: Channel, server: GrpcServer, opts: OpenSessionOptions): ClientSession {
  const info: SessionInfo = { id: opts.id, name: opts.name ?? "", sharedKey: opts.sharedKey ?? "", methods: server.methods };
  const call = channel.bidi(ControlService.methods.Session, {
    metadata: sessionMetadata(info),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  const conn = bytesStreamDuplex(call);
  const closed = server.serveConnection(conn);
  return {
    id: info.id,
    closed,
    close: async () => {
      conn.end();
      conn.destroy();
      await closed;
    },
  };
}

function closedPromise(conn: Duplex): Promise<void> {
  return new Promise((resolve) => {
    if (conn.destroyed) resolve();
    else conn.once("close", () => resolve());
  });
}
