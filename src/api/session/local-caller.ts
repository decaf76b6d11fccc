/**
 * A {@link SessionCaller} that calls client-side handlers in this process: the session of a
 * daemonless build, and of tests. Messages go through the methods' codecs both ways, as they
 * would over gRPC, so what works here works on the wire's encoding too.
 */
import { BuildkitError } from "../../core/errors.ts";
import { createMessagePipe } from "./message-pipe.ts";
import type { CallOptions, MessageStream, Method, SessionCaller, SessionHandler } from "./session.ts";

export interface LocalCallerOptions {
  readonly id?: string;
  readonly name?: string;
  readonly sharedKey?: string;
}

export function createLocalCaller(handlers: readonly SessionHandler[], opts: LocalCallerOptions = {}): SessionCaller {
  const byPath = new Map(handlers.map((h) => [h.method.path, h]));
  return {
    id: opts.id ?? "local",
    name: opts.name ?? "local",
    sharedKey: opts.sharedKey ?? "local",
    supports: (path) => byPath.has(path),
    unary: (method, request, callOpts) => callUnary(byPath.get(method.path), method, request, callOpts ?? {}),
    stream: (method, callOpts) => openStream(byPath.get(method.path), method, callOpts ?? {}),
  };
}

async function callUnary<Req, Res>(handler: SessionHandler | undefined, method: Method<Req, Res>, request: Req, opts: CallOptions): Promise<Res> {
  if (handler?.kind !== "unary") throw unimplemented(method.path);
  const signal = opts.signal ?? new AbortController().signal;
  try {
    const decoded = handler.method.decodeRequest(method.encodeRequest(request));
    const response = await handler.handle(decoded, { metadata: opts.metadata ?? {}, signal });
    return method.decodeResponse(handler.method.encodeResponse(response));
  } catch (err) {
    throw asStatus(err);
  }
}

function openStream<Req, Res>(handler: SessionHandler | undefined, method: Method<Req, Res>, opts: CallOptions): MessageStream<Res, Req> {
  const pipe = createMessagePipe<Uint8Array, Uint8Array>({ ...(opts.signal ? { signal: opts.signal } : {}) });
  if (handler?.kind !== "bidi") {
    pipe.abort(unimplemented(method.path));
    return encoded(pipe.left, (b) => method.decodeResponse(b), (m: Req) => method.encodeRequest(m));
  }
  const server = encoded(pipe.right, (b) => handler.method.decodeRequest(b), (m: unknown) => handler.method.encodeResponse(m));
  handler.handle(server, { metadata: opts.metadata ?? {}, signal: pipe.right.signal }).then(
    () => pipe.right.end(),
    (err: unknown) => pipe.abort(asStatus(err)),
  );
  return encoded(pipe.left, (b) => method.decodeResponse(b), (m: Req) => method.encodeRequest(m));
}

/** A byte stream seen as a stream of messages. */
function encoded<In, Out>(stream: MessageStream<Uint8Array, Uint8Array>, decode: (b: Uint8Array) => In, encode: (m: Out) => Uint8Array): MessageStream<In, Out> {
  return {
    recv: async () => {
      const bytes = await stream.recv();
      return bytes === undefined ? undefined : decode(bytes);
    },
    send: (message) => stream.send(encode(message)),
    end: () => stream.end(),
    signal: stream.signal,
  };
}

function unimplemented(path: string): BuildkitError {
  return new BuildkitError("Unimplemented", `calling ${path}: the client does not serve this method`);
}

/** What a gRPC status would carry: a BuildkitError as is, anything else as Internal. */
function asStatus(err: unknown): BuildkitError {
  if (err instanceof BuildkitError) return err;
  return new BuildkitError("Internal", err instanceof Error ? err.message : String(err), { cause: err });
}
