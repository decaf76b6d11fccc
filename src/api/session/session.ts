/**
 * The contracts between the session's services (file sync, file send, secrets, ssh) and the gRPC
 * layer that carries them. The services never see HTTP/2: they see messages.
 *
 * - Daemon side: the daemon calls methods the client registered; it holds a {@link SessionCaller}.
 * - Client side: the client answers them with {@link SessionHandler}s, which the gRPC layer
 *   registers on the server it runs inside the Session stream (and announces by path in the
 *   `X-Docker-Expose-Session-Grpc-Method` headers).
 *
 * A {@link Method} says how a call's messages are encoded, so a transport moves only bytes.
 */

/** gRPC metadata: lower-case keys; every value of a key kept, in order (patterns repeat a key). */
export type Metadata = Readonly<Record<string, readonly string[]>>;

/** One end of a call's message streams (Go's grpc.Stream: SendMsg, RecvMsg, CloseSend). */
export interface MessageStream<In, Out> {
  /**
   * The next message from the peer; undefined once the peer has ended its side and the call
   * finished well. Rejects with the call's error (a BuildkitError with the status's code).
   */
  recv(): Promise<In | undefined>;
  /** Sends one message; resolves when the transport can take another (backpressure). */
  send(message: Out): Promise<void>;
  /** Ends this side (half-close); the peer's recv() then returns undefined. Idempotent. */
  end(): void;
  /** Aborted when the call is canceled or broken. */
  readonly signal: AbortSignal;
}

/** How one method's messages travel: its path and both messages' codecs. */
export interface Method<Req, Res> {
  /** "/package.Service/Method". */
  readonly path: string;
  readonly kind: "unary" | "bidi";
  encodeRequest(message: Req): Uint8Array;
  decodeRequest(bytes: Uint8Array): Req;
  encodeResponse(message: Res): Uint8Array;
  decodeResponse(bytes: Uint8Array): Res;
}

export interface CallOptions {
  readonly metadata?: Metadata;
  readonly signal?: AbortSignal;
}

/** What the daemon needs of a client's session. */
export interface SessionCaller {
  /** The session's id, name and shared key (from the X-Docker-Expose-Session-* headers). */
  readonly id: string;
  readonly name: string;
  readonly sharedKey: string;
  /** Whether the client announced `path`. */
  supports(path: string): boolean;
  /** A unary call; rejects with a BuildkitError whose code comes from the gRPC status. */
  unary<Req, Res>(method: Method<Req, Res>, request: Req, opts?: CallOptions): Promise<Res>;
  /** Opens a bidirectional stream; the daemon is the gRPC client, so it sends requests. */
  stream<Req, Res>(method: Method<Req, Res>, opts?: CallOptions): MessageStream<Res, Req>;
}

/** What a client-side handler knows of its call. */
export interface HandlerContext {
  readonly metadata: Metadata;
  readonly signal: AbortSignal;
}

/**
 * Client side: answers one method. A thrown BuildkitError becomes the call's status (its code
 * mapped to gRPC's); a bidi handler's return ends the call with OK.
 */
export type SessionHandler =
  | { readonly kind: "unary"; readonly method: Method<unknown, unknown>; handle(request: unknown, ctx: HandlerContext): Promise<unknown> }
  | { readonly kind: "bidi"; readonly method: Method<unknown, unknown>; handle(stream: MessageStream<unknown, unknown>, ctx: HandlerContext): Promise<void> };

/** Typed constructors for handlers (the union above is what a transport stores). */
export function unaryHandler<Req, Res>(method: Method<Req, Res>, handle: (request: Req, ctx: HandlerContext) => Promise<Res>): SessionHandler {
  return { kind: "unary", method: method as Method<unknown, unknown>, handle: handle as (r: unknown, c: HandlerContext) => Promise<unknown> };
}

export function bidiHandler<Req, Res>(
  method: Method<Req, Res>,
  handle: (stream: MessageStream<Req, Res>, ctx: HandlerContext) => Promise<void>,
): SessionHandler {
  return {
    kind: "bidi",
    method: method as Method<unknown, unknown>,
    handle: handle as (s: MessageStream<unknown, unknown>, c: HandlerContext) => Promise<void>,
  };
}

/** First value of a metadata key, or undefined. */
export function firstValue(md: Metadata, key: string): string | undefined {
  return md[key]?.[0];
}
