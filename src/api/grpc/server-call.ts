// One incoming call on the server: reading request frames, writing response frames with
// backpressure, and ending with a status (trailers, or a trailers-only response).
import http2, { type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { encodeFrame, FrameDecoder } from "./framing.ts";
import { metadataFromHeaders, parseGrpcTimeout, type Metadata } from "./metadata.ts";
import { encodeGrpcMessage, encodeStatusDetails, GrpcError, Status, toGrpcError } from "./status.ts";

/** What every handler sees of its call. */
export interface CallContext {
  /** The request's metadata: custom headers, lower-cased. */
  readonly metadata: Metadata;
  /** Fires when the client cancels or disconnects, the deadline passes or the server closes. */
  readonly signal: AbortSignal;
  /** When the call's grpc-timeout ends (ms since the epoch), if the client set one. */
  readonly deadline: number | undefined;
}

export class ServerCall implements CallContext {
  readonly metadata: Metadata;
  readonly deadline: number | undefined;
  /** Set when the request's headers are unusable (a malformed grpc-timeout): finish with it. */
  readonly badRequest: GrpcError | undefined;
  readonly #stream: ServerHttp2Stream;
  readonly #abort = new AbortController();
  readonly #decoder: FrameDecoder;
  #headersSent = false;
  #finished = false;
  #trailers: OutgoingHttpHeaders = { "grpc-status": "0" };
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #onDone: () => void;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, opts: { maxReceiveMessageSize: number; onDone: () => void }) {
    this.#stream = stream;
    this.#decoder = new FrameDecoder(opts.maxReceiveMessageSize);
    this.#onDone = opts.onDone;
    this.metadata = metadataFromHeaders(headers);
    const gone = () => this.#cancel(new GrpcError(Status.CANCELLED, "call canceled by the client"));
    stream.on("aborted", gone);
    stream.on("close", gone);
    stream.on("error", gone);
    const timeout = headers["grpc-timeout"];
    let deadline: number | undefined;
    let badRequest: GrpcError | undefined;
    if (typeof timeout === "string") {
      try {
        const ms = parseGrpcTimeout(timeout);
        deadline = Date.now() + ms;
        this.#timer = setTimeout(() => this.#cancel(new GrpcError(Status.DEADLINE_EXCEEDED, "call deadline exceeded")), ms);
      } catch (err) {
        badRequest = toGrpcError(err);
      }
    }
    this.deadline = deadline;
    this.badRequest = badRequest;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** The request's messages, as raw bytes, until the client half-closes. */
  async *messages(): AsyncGenerator<Uint8Array> {
    // Leaving the loop early (a framing error, a handler that stops reading) must not destroy
    // the stream: the status still has to be sent on it.
    for await (const chunk of this.#stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>) {
      yield* this.#decoder.push(chunk);
    }
    if (this.signal.aborted) throw this.signal.reason;
    if (!this.#decoder.idle) throw new GrpcError(Status.INTERNAL, "reading request: stream ended inside a message");
  }

  /** Exactly one request message, as unary and server-streaming calls have. */
  async readOne(): Promise<Uint8Array> {
    let message: Uint8Array | undefined;
    for await (const m of this.messages()) {
      if (message !== undefined) throw new GrpcError(Status.UNIMPLEMENTED, "reading request: more than one message for a unary request");
      message = m;
    }
    if (message === undefined) throw new GrpcError(Status.UNIMPLEMENTED, "reading request: no request message");
    return message;
  }

  /** Writes one response message; waits while the peer is slow to read. */
  async send(message: Uint8Array): Promise<void> {
    if (this.#finished) throw this.signal.aborted ? this.signal.reason : new GrpcError(Status.INTERNAL, "sending message: call already finished");
    this.#sendHeaders();
    if (this.#stream.write(encodeFrame(message))) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: unknown) => {
        this.#stream.off("drain", onDrain);
        this.signal.removeEventListener("abort", onAbort);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onDrain = () => done();
      const onAbort = () => done(this.signal.reason);
      this.#stream.on("drain", onDrain);
      this.signal.addEventListener("abort", onAbort);
    });
  }

  /** Ends the call: OK without an error, else the error's status. Later calls do nothing. */
  finish(err?: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#timer);
    this.#onDone();
    const status = err === undefined ? undefined : toGrpcError(err);
    if (status !== undefined) this.#abort.abort(status);
    const trailers: OutgoingHttpHeaders = { "grpc-status": String(status?.code ?? Status.OK) };
    if (status !== undefined) {
      trailers["grpc-message"] = encodeGrpcMessage(status.message);
      const details = encodeStatusDetails(status);
      if (details !== undefined) trailers["grpc-status-details-bin"] = details;
    }
    const stream = this.#stream;
    if (stream.destroyed || stream.closed) return;
    if (!this.#headersSent) {
      this.#headersSent = true;
      stream.respond({ ":status": 200, "content-type": "application/grpc", ...trailers }, { endStream: true });
      this.#resetIfUnread();
      return;
    }
    this.#trailers = trailers;
    stream.end();
  }

  /**
   * After the status, a client still sending (a rejected oversized request) would wait forever
   * for flow-control credit: reset the stream as grpc-go does (RST_STREAM NO_ERROR), so its
   * writes end and it reads the status.
   */
  #resetIfUnread(): void {
    const stream = this.#stream;
    if (stream.readableEnded) return;
    setImmediate(() => {
      if (!stream.destroyed && !stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    });
  }

  /** Stops the call from outside its handler (server shutdown): the status goes to the client. */
  cancel(reason: GrpcError): void {
    this.#cancel(reason);
  }

  #cancel(reason: GrpcError): void {
    if (this.#finished) return;
    this.#abort.abort(reason);
    this.finish(reason);
  }

  #sendHeaders(): void {
    if (this.#headersSent) return;
    this.#headersSent = true;
    this.#stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    this.#stream.once("wantTrailers", () => {
      this.#stream.sendTrailers(this.#trailers);
      this.#resetIfUnread();
    });
  }
}
