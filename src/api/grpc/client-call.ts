// One outgoing call on the client: request frames out, response frames in, and the status
// from the trailers (or a trailers-only response, or the stream's reset code).
import http2 from "node:http2";
import { encodeFrame, FrameDecoder } from "./framing.ts";
import { formatGrpcTimeout, metadataFromHeaders, metadataToHeaders, type Metadata } from "./metadata.ts";
import { decodeGrpcMessage, decodeStatusDetails, GrpcError, isStatusCode, Status, type StatusCode } from "./status.ts";

export interface CallOptions {
  readonly metadata?: Metadata;
  /** Cancels the call (the server sees RST_STREAM CANCEL). */
  readonly signal?: AbortSignal;
  /** Deadline in milliseconds from now: sent as grpc-timeout and enforced here too. */
  readonly timeout?: number;
}

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_INADEQUATE_SECURITY } = http2.constants;

export class ClientCall {
  readonly #stream: http2.ClientHttp2Stream;
  readonly #decoder: FrameDecoder;
  readonly #abort = new AbortController();
  readonly #path: string;
  #headers: http2.IncomingHttpHeaders | undefined;
  #trailers: http2.IncomingHttpHeaders | undefined;
  #error: unknown;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #headersReceived: Promise<Metadata>;

  constructor(session: http2.ClientHttp2Session, path: string, opts: CallOptions & { maxReceiveMessageSize: number }) {
    this.#path = path;
    this.#decoder = new FrameDecoder(opts.maxReceiveMessageSize);
    const headers: http2.OutgoingHttpHeaders = {
      ...metadataToHeaders(opts.metadata),
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      "user-agent": "buildkit-ts-grpc",
    };
    if (opts.timeout !== undefined) headers["grpc-timeout"] = formatGrpcTimeout(opts.timeout);
    this.#stream = session.request(headers);
    this.#headersReceived = new Promise((resolve) => {
      this.#stream.once("response", (h) => {
        this.#headers = h;
        resolve(metadataFromHeaders(h));
      });
      this.#stream.once("close", () => resolve({}));
    });
    this.#stream.once("trailers", (t) => (this.#trailers = t));
    this.#stream.on("error", (err) => (this.#error ??= err));
    if (opts.signal !== undefined) {
      const signal = opts.signal;
      const onAbort = () => this.cancel(new GrpcError(Status.CANCELLED, `calling ${path}: canceled`, { cause: signal.reason }));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
      this.#stream.once("close", () => signal.removeEventListener("abort", onAbort));
    }
    if (opts.timeout !== undefined) {
      this.#timer = setTimeout(() => this.cancel(new GrpcError(Status.DEADLINE_EXCEEDED, `calling ${path}: deadline exceeded`)), opts.timeout);
      this.#stream.once("close", () => clearTimeout(this.#timer));
    }
  }

  /** Fires when the call is canceled here (signal, deadline, cancel()). */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** The response's metadata, once its headers arrive. */
  get headers(): Promise<Metadata> {
    return this.#headersReceived;
  }

  async send(message: Uint8Array): Promise<void> {
    if (this.signal.aborted) throw this.signal.reason;
    if (this.#stream.destroyed || this.#stream.writableEnded) throw new GrpcError(Status.INTERNAL, `calling ${this.#path}: stream is closed for sending`);
    if (this.#stream.write(encodeFrame(message))) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: unknown) => {
        this.#stream.off("drain", onDrain);
        this.#stream.off("close", onClose);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onDrain = () => done();
      // A server that answered before reading everything (a rejected oversized request) closes
      // the stream: its status, when it sent one, is the call's outcome.
      const onClose = () =>
        done(this.signal.aborted ? this.signal.reason : ((this.#headers === undefined ? undefined : this.#status()) ?? new GrpcError(Status.UNAVAILABLE, `calling ${this.#path}: stream closed`)));
      this.#stream.on("drain", onDrain);
      this.#stream.on("close", onClose);
    });
  }

  /** Half-closes: no more requests. */
  end(): void {
    if (!this.#stream.destroyed && !this.#stream.writableEnded) this.#stream.end();
  }

  cancel(reason: GrpcError = new GrpcError(Status.CANCELLED, `calling ${this.#path}: canceled`)): void {
    if (this.signal.aborted) return;
    this.#abort.abort(reason);
    if (!this.#stream.destroyed) this.#stream.close(NGHTTP2_CANCEL);
  }

  /** The response messages as raw bytes; throws the call's status unless it is OK. */
  async *messages(): AsyncGenerator<Uint8Array> {
    let stoppedEarly = true;
    try {
      for await (const chunk of this.#stream as AsyncIterable<Uint8Array>) {
        yield* this.#decoder.push(chunk);
      }
      stoppedEarly = false;
    } catch (err) {
      stoppedEarly = false;
      if (this.signal.aborted) throw this.signal.reason;
      if (err instanceof GrpcError) {
        this.cancel(err);
        throw err;
      }
      this.#error ??= err;
    } finally {
      // A consumer that stops reading early cancels the rest of the call.
      if (stoppedEarly) this.cancel();
    }
    const status = this.#status();
    if (status !== undefined) throw status;
    if (!this.#decoder.idle) throw new GrpcError(Status.INTERNAL, `calling ${this.#path}: response ended inside a message`);
  }

  /** undefined for OK, else the call's failure. */
  #status(): GrpcError | undefined {
    if (this.signal.aborted) return this.signal.reason as GrpcError;
    const from = this.#trailers ?? this.#headers;
    const raw = from?.["grpc-status"];
    if (typeof raw === "string" && isStatusCode(Number(raw))) {
      const code = Number(raw) as StatusCode;
      if (code === Status.OK) return undefined;
      const message = typeof from?.["grpc-message"] === "string" ? decodeGrpcMessage(from["grpc-message"]) : "";
      const details = decodeStatusDetails(typeof from?.["grpc-status-details-bin"] === "string" ? from["grpc-status-details-bin"] : undefined);
      return new GrpcError(code, message, { details });
    }
    const httpStatus = Number(this.#headers?.[":status"] ?? 0);
    if (this.#headers !== undefined && httpStatus !== 200) return new GrpcError(fromHttpStatus(httpStatus), `calling ${this.#path}: HTTP status ${httpStatus}`);
    // An error before any response is the connection failing (refused, TLS handshake...).
    if (this.#error !== undefined && this.#headers === undefined) {
      const msg = this.#error instanceof Error ? this.#error.message : String(this.#error);
      return new GrpcError(Status.UNAVAILABLE, `calling ${this.#path}: ${msg}`, { cause: this.#error });
    }
    const rst = this.#stream.rstCode;
    if (rst !== undefined && rst !== 0) return new GrpcError(fromResetCode(rst), `calling ${this.#path}: stream reset with code ${rst}`);
    if (this.#error !== undefined) {
      const msg = this.#error instanceof Error ? this.#error.message : String(this.#error);
      return new GrpcError(Status.UNAVAILABLE, `calling ${this.#path}: ${msg}`, { cause: this.#error });
    }
    // No response at all: the connection failed or closed first (a refused TLS handshake, say).
    if (this.#headers === undefined) return new GrpcError(Status.UNAVAILABLE, `calling ${this.#path}: connection closed before a response`);
    return new GrpcError(Status.INTERNAL, `calling ${this.#path}: server sent no grpc-status`);
  }
}

function fromHttpStatus(status: number): StatusCode {
  if (status === 400) return Status.INTERNAL;
  if (status === 401) return Status.UNAUTHENTICATED;
  if (status === 403) return Status.PERMISSION_DENIED;
  if (status === 404) return Status.UNIMPLEMENTED;
  if ([429, 502, 503, 504].includes(status)) return Status.UNAVAILABLE;
  return Status.UNKNOWN;
}

function fromResetCode(code: number): StatusCode {
  if (code === NGHTTP2_REFUSED_STREAM) return Status.UNAVAILABLE;
  if (code === NGHTTP2_CANCEL) return Status.CANCELLED;
  if (code === NGHTTP2_ENHANCE_YOUR_CALM) return Status.RESOURCE_EXHAUSTED;
  if (code === NGHTTP2_INADEQUATE_SECURITY) return Status.PERMISSION_DENIED;
  return Status.INTERNAL;
}
