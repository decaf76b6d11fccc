// A shim between an HTTP/2 connection's bytes and Bun's node:http2, making up for how Bun
// applies a peer's SETTINGS_INITIAL_WINDOW_SIZE change to streams already open.
//
// RFC 9113 §6.9.2: when the peer changes INITIAL_WINDOW_SIZE, the send window of every open
// stream moves by (new - old). Bun's frame parser (h2_frame_parser.zig handleSettingsFrame,
// Bun 1.4.4) instead sets a stream's *cumulative* credit to the new value only when that value
// is at least the connection's and the stream's cumulative credit, which after the first
// WINDOW_UPDATE is never the case: the increase is dropped. grpc-go raises INITIAL_WINDOW_SIZE
// mid-stream (BDP estimation) and counts the increase as credit it has given us, so it sends a
// stream WINDOW_UPDATE only once a quarter of its (now larger) window has been read. Once that
// quarter is more than the 64 KiB Bun believes it may have outstanding, Bun waits for credit and
// grpc-go waits for data: the stream stalls forever (seen on Control.Session against buildkitd).
//
// The shim keeps Bun's view of INITIAL_WINDOW_SIZE at the default 65,535 (it strips the setting
// from the peer's SETTINGS frames) and hands out the difference itself as WINDOW_UPDATE frames
// in the bytes Bun reads: the increase for each stream still sending when the setting grows,
// and (new - 65,535) for each stream opened after it. Bun then holds exactly the credit the peer
// has granted. Everything else passes through untouched; only frame headers (and SETTINGS
// payloads) are parsed. A peer lowering the setting below 65,535 cannot be expressed this way:
// the shim then passes its SETTINGS through unchanged from there on (Bun's own behaviour).
import { Duplex } from "node:stream";

const DEFAULT_WINDOW = 65535;
const HEADER = 9;
const PREFACE = 24;
const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const WINDOW_UPDATE = 0x8;
const CONTINUATION = 0x9;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const ACK = 0x1;
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;

/** Which end of the connection we are: the client sends the preface, the server reads it. */
export type Http2Role = "client" | "server";

/** Wraps the connection's byte stream for Bun's http2 (http2.connect's createConnection, or a server's "connection"). */
export function withPeerWindowFix(inner: Duplex, role: Http2Role): Duplex {
  return new WindowFixDuplex(inner, role);
}

/** Reads frame headers out of a byte stream, across chunk boundaries. */
class FrameScanner {
  #skip: number;
  readonly #header = Buffer.alloc(HEADER);
  #headerLength = 0;
  #payloadLeft = 0;

  constructor(preface: boolean) {
    this.#skip = preface ? PREFACE : 0;
  }

  /** Calls onHeader for each frame header completed in chunk. */
  scan(chunk: Uint8Array, onHeader: (type: number, flags: number, id: number, length: number) => void): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - at);
        this.#skip -= n;
        at += n;
        continue;
      }
      if (this.#payloadLeft > 0) {
        const n = Math.min(this.#payloadLeft, chunk.length - at);
        this.#payloadLeft -= n;
        at += n;
        continue;
      }
      const n = Math.min(HEADER - this.#headerLength, chunk.length - at);
      this.#header.set(chunk.subarray(at, at + n), this.#headerLength);
      this.#headerLength += n;
      at += n;
      if (this.#headerLength < HEADER) return;
      this.#headerLength = 0;
      const h = this.#header;
      const length = h.readUIntBE(0, 3);
      this.#payloadLeft = length;
      onHeader(h[3]!, h[4]!, h.readUInt32BE(5) & 0x7fffffff, length);
    }
  }
}

class WindowFixDuplex extends Duplex {
  readonly #inner: Duplex;
  readonly #out: FrameScanner;
  /** Streams we may still send on (no END_STREAM sent, no RST_STREAM either way). */
  readonly #sending = new Set<number>();
  readonly #seen = new Set<number>();
  /** The peer's INITIAL_WINDOW_SIZE (Bun believes it is DEFAULT_WINDOW). */
  #peerInitial = DEFAULT_WINDOW;
  #passThrough = false;
  // Incoming parse state.
  #inSkip: number;
  readonly #inHeader = Buffer.alloc(HEADER);
  #inHeaderLength = 0;
  #inPayloadLeft = 0;
  #inType = -1;
  #inFlags = 0;
  #inId = 0;
  #settings: Buffer[] = [];
  /** Inside a header block (HEADERS without END_HEADERS, then CONTINUATIONs): nothing may be inserted. */
  #inHeaderBlock = false;
  /** WINDOW_UPDATE frames waiting for the next frame boundary of the incoming bytes. */
  #pending: Buffer[] = [];

  constructor(inner: Duplex, role: Http2Role) {
    super({ allowHalfOpen: true });
    this.#inner = inner;
    this.#out = new FrameScanner(role === "client");
    this.#inSkip = role === "server" ? PREFACE : 0;
    inner.on("data", (chunk: Buffer) => {
      if (!this.push(this.#incoming(chunk))) inner.pause();
    });
    inner.on("end", () => this.push(null));
    inner.on("error", (err) => this.destroy(err));
    inner.on("close", () => {
      if (!this.destroyed) this.destroy();
    });
  }

  override _read(): void {
    this.#inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#outgoing(chunk);
    this.#inner.write(chunk, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#inner.end();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (!this.#inner.destroyed) this.#inner.destroy(err ?? undefined);
    callback(err);
  }

  #outgoing(chunk: Uint8Array): void {
    let flushNow = false;
    this.#out.scan(chunk, (type, flags, id) => {
      if (id === 0) return;
      if (type === HEADERS && !this.#seen.has(id)) {
        // A stream we open: the peer granted it its INITIAL_WINDOW_SIZE, Bun assumes 65,535.
        this.#open(id);
        flushNow = true;
      }
      if ((type === DATA || type === HEADERS) && (flags & END_STREAM) !== 0) this.#sending.delete(id);
      if (type === RST_STREAM) this.#sending.delete(id);
    });
    // Not synchronously: Bun may be writing from inside its handling of the bytes we pushed.
    if (flushNow) process.nextTick(() => this.#flushPending());
  }

  #open(id: number): void {
    this.#seen.add(id);
    this.#sending.add(id);
    if (!this.#passThrough && this.#peerInitial > DEFAULT_WINDOW) this.#queueUpdate(id, this.#peerInitial - DEFAULT_WINDOW);
  }

  #queueUpdate(id: number, increment: number): void {
    const frame = Buffer.alloc(HEADER + 4);
    frame.writeUIntBE(4, 0, 3);
    frame[3] = WINDOW_UPDATE;
    frame.writeUInt32BE(id, 5);
    frame.writeUInt32BE(increment, HEADER);
    this.#pending.push(frame);
  }

  #atBoundary(): boolean {
    return this.#inSkip === 0 && this.#inHeaderLength === 0 && this.#inPayloadLeft === 0 && !this.#inHeaderBlock;
  }

  /** The queued WINDOW_UPDATEs for streams still sending, emptying the queue. */
  #takePending(): Buffer[] {
    const frames = this.#pending.filter((f) => this.#sending.has(f.readUInt32BE(5)));
    this.#pending = [];
    return frames;
  }

  /** Pushes queued WINDOW_UPDATEs if the incoming bytes are at a frame boundary (else they go with the next frame). */
  #flushPending(): void {
    if (this.#pending.length === 0 || !this.#atBoundary() || this.destroyed || this.readableEnded) return;
    const frames = this.#takePending();
    if (frames.length > 0 && !this.push(Buffer.concat(frames))) this.#inner.pause();
  }

  /** The bytes Bun should read for chunk: SETTINGS rewritten, WINDOW_UPDATEs inserted. */
  #incoming(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let at = 0;
    const takePending = () => {
      if (this.#pending.length > 0) out.push(...this.#takePending());
    };
    while (at < chunk.length) {
      if (this.#inSkip > 0) {
        const n = Math.min(this.#inSkip, chunk.length - at);
        out.push(chunk.subarray(at, at + n));
        this.#inSkip -= n;
        at += n;
        continue;
      }
      if (this.#inPayloadLeft > 0) {
        const n = Math.min(this.#inPayloadLeft, chunk.length - at);
        const part = chunk.subarray(at, at + n);
        if (this.#inType === SETTINGS) this.#settings.push(part);
        else out.push(part);
        this.#inPayloadLeft -= n;
        at += n;
        if (this.#inPayloadLeft === 0) this.#frameDone(out);
        continue;
      }
      if (this.#inHeaderLength === 0 && !this.#inHeaderBlock) takePending();
      const n = Math.min(HEADER - this.#inHeaderLength, chunk.length - at);
      this.#inHeader.set(chunk.subarray(at, at + n), this.#inHeaderLength);
      this.#inHeaderLength += n;
      at += n;
      if (this.#inHeaderLength < HEADER) break;
      this.#inHeaderLength = 0;
      const h = this.#inHeader;
      this.#inType = h[3]!;
      this.#inFlags = h[4]!;
      this.#inId = h.readUInt32BE(5) & 0x7fffffff;
      this.#inPayloadLeft = h.readUIntBE(0, 3);
      if (this.#inType === SETTINGS) this.#settings = [];
      else out.push(Buffer.from(h));
      if (this.#inPayloadLeft === 0) this.#frameDone(out);
    }
    if (this.#atBoundary()) takePending();
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  #frameDone(out: Buffer[]): void {
    const type = this.#inType;
    const id = this.#inId;
    const flags = this.#inFlags;
    if (type === SETTINGS) {
      out.push(this.#rewriteSettings(Buffer.concat(this.#settings), flags));
      this.#settings = [];
      return;
    }
    if (type === HEADERS || type === CONTINUATION) {
      this.#inHeaderBlock = (flags & END_HEADERS) === 0;
      // A stream the peer opens (we are the server): once its header block is complete.
      if (type === HEADERS && id !== 0 && !this.#seen.has(id)) this.#open(id);
    }
    if (type === RST_STREAM) this.#sending.delete(id);
  }

  /** The SETTINGS frame Bun should see; queues the WINDOW_UPDATEs an INITIAL_WINDOW_SIZE change grants. */
  #rewriteSettings(payload: Buffer, flags: number): Buffer {
    const header = (length: number) => {
      const h = Buffer.alloc(HEADER);
      h.writeUIntBE(length, 0, 3);
      h[3] = SETTINGS;
      h[4] = flags;
      return h;
    };
    if (this.#passThrough || (flags & ACK) !== 0 || payload.length % 6 !== 0) return Buffer.concat([header(payload.length), payload]);
    const kept: Buffer[] = [];
    let initial: number | undefined;
    for (let i = 0; i < payload.length; i += 6) {
      const entry = payload.subarray(i, i + 6);
      if (entry.readUInt16BE(0) === SETTINGS_INITIAL_WINDOW_SIZE) initial = entry.readUInt32BE(2);
      else kept.push(entry);
    }
    if (initial === undefined) return Buffer.concat([header(payload.length), payload]);
    if (initial < DEFAULT_WINDOW) {
      // Cannot be expressed as WINDOW_UPDATEs: leave it (and everything after it) to Bun.
      this.#passThrough = true;
      return Buffer.concat([header(payload.length), payload]);
    }
    const delta = initial - this.#peerInitial;
    this.#peerInitial = initial;
    if (delta > 0) for (const id of this.#sending) this.#queueUpdate(id, delta);
    // A decrease (still at least 65,535) is left unapplied: nothing smaller than a WINDOW_UPDATE
    // can take credit back, and grpc-go only ever raises the setting.
    const rest = Buffer.concat(kept);
    return Buffer.concat([header(rest.length), rest]);
  }
}
