// gRPC's length-prefixed message framing: a flag byte (1 = compressed) and a big-endian
// uint32 length before each message.
import { GrpcError, Status } from "./status.ts";

/** What BuildKit's Go daemon accepts by default (grpc.MaxRecvMsgSize(16 << 20)). */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 << 20;

const HEADER = 5;

/** One message framed for the wire. */
export function encodeFrame(message: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER + message.length);
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, HEADER);
  return frame;
}

/**
 * Splits a byte stream into messages, across any chunk boundaries. A message's buffer is
 * allocated once its length is known and checked against the limit, so input is never
 * buffered beyond one message.
 */
export class FrameDecoder {
  readonly #maxSize: number;
  readonly #header = new Uint8Array(HEADER);
  #headerLength = 0;
  #body: Uint8Array | undefined;
  #bodyLength = 0;

  constructor(maxSize = DEFAULT_MAX_MESSAGE_SIZE) {
    this.#maxSize = maxSize;
  }

  /** Whether the bytes seen so far end on a message boundary. */
  get idle(): boolean {
    return this.#headerLength === 0 && this.#body === undefined;
  }

  /** The messages completed by this chunk; throws a GrpcError on a frame we do not accept. */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.#body === undefined) {
        const n = Math.min(HEADER - this.#headerLength, chunk.length - at);
        this.#header.set(chunk.subarray(at, at + n), this.#headerLength);
        this.#headerLength += n;
        at += n;
        if (this.#headerLength < HEADER) break;
        this.#startBody(out);
        continue;
      }
      const n = Math.min(this.#body.length - this.#bodyLength, chunk.length - at);
      this.#body.set(chunk.subarray(at, at + n), this.#bodyLength);
      this.#bodyLength += n;
      at += n;
      if (this.#bodyLength === this.#body.length) {
        out.push(this.#body);
        this.#body = undefined;
      }
    }
    return out;
  }

  #startBody(out: Uint8Array[]): void {
    this.#headerLength = 0;
    const flag = this.#header[0];
    const length = new DataView(this.#header.buffer).getUint32(1);
    if (flag === 1) throw new GrpcError(Status.UNIMPLEMENTED, "reading message: compressed messages are not supported");
    if (flag !== 0) throw new GrpcError(Status.INTERNAL, `reading message: invalid compression flag ${flag}`);
    if (length > this.#maxSize) {
      throw new GrpcError(Status.RESOURCE_EXHAUSTED, `reading message: ${length} bytes is larger than the limit of ${this.#maxSize}`);
    }
    if (length === 0) {
      out.push(new Uint8Array());
      return;
    }
    this.#body = new Uint8Array(length);
    this.#bodyLength = 0;
  }
}
