/**
 * Daemon side of a single-file export (`--output type=tar`, and the OCI/docker tarballs): a
 * Writable whose bytes go to the client as BytesMessages on FileSend.DiffCopy (BuildKit's
 * CopyFileWriter). Small writes are gathered into 32 KiB messages; a write completes when the
 * transport has taken its message, so a slow client slows the exporter down. Ending the
 * Writable waits until the client has written and closed its file.
 *
 * The client side is target.ts (`fileSendHandler` with a writer target).
 */
import { Writable } from "node:stream";
import { BuildkitError, withContext } from "../../../core/errors.ts";
import { fileSendBytes } from "../methods.ts";
import type { BytesMessage } from "../methods.ts";
import type { MessageStream, SessionCaller } from "../session.ts";
import { keyExporterMetaPrefix } from "./metadata.ts";

const MESSAGE_SIZE = 32 * 1024;

/** Opens the client's output for the exporter's metadata `md` (sent as exporter-md-* keys). */
export function copyFileWriter(caller: SessionCaller, md: Readonly<Record<string, string>> = {}, signal?: AbortSignal): Writable {
  if (!caller.supports(fileSendBytes.path)) {
    throw new BuildkitError("FailedPrecondition", `exporting to the client: the client does not accept files (method ${fileSendBytes.path})`);
  }
  const metadata: Record<string, readonly string[]> = {};
  for (const [key, value] of Object.entries(md)) metadata[keyExporterMetaPrefix + key] = [value];
  const call = new AbortController();
  signal?.addEventListener("abort", () => call.abort(signal.reason), { once: true });
  return new StreamWriter(caller.stream(fileSendBytes, { metadata, signal: call.signal }), call);
}

class StreamWriter extends Writable {
  readonly #stream: MessageStream<BytesMessage, BytesMessage>;
  readonly #call: AbortController;
  #buffer: Buffer[] = [];
  #buffered = 0;

  constructor(stream: MessageStream<BytesMessage, BytesMessage>, call: AbortController) {
    super({ highWaterMark: MESSAGE_SIZE });
    this.#stream = stream;
    this.#call = call;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#buffer.push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered < MESSAGE_SIZE) return callback();
    this.#flush().then(() => callback(), (err: unknown) => callback(failure(err)));
  }

  override _final(callback: (error?: Error | null) => void): void {
    (async () => {
      await this.#flush();
      this.#stream.end();
      while ((await this.#stream.recv()) !== undefined); // the client has closed its file
    })().then(() => callback(), (err: unknown) => callback(failure(err)));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error) this.#call.abort(error);
    callback(error);
  }

  async #flush(): Promise<void> {
    if (this.#buffered === 0) return;
    const data = Buffer.concat(this.#buffer, this.#buffered);
    [this.#buffer, this.#buffered] = [[], 0];
    for (let off = 0; off < data.length; off += MESSAGE_SIZE) {
      await this.#stream.send({ data: data.subarray(off, off + MESSAGE_SIZE) });
    }
  }
}

function failure(err: unknown): Error {
  return withContext("exporting to the client", err);
}
