/**
 * The outer tar of an image archive (OCI layout or `docker save` format): directories, small
 * JSON files, and blobs streamed from the content store, in ustar blocks from tar-header.ts
 * with fixed owner and time so the same image gives the same archive.
 */
import type { Writable } from "node:stream";
import { BuildkitError } from "../../errors.ts";
import type { ByteSink } from "../../image/byte-sink.ts";
import { BLOCK, encodeHeader, padding } from "../../image/tar-header.ts";
import type { EntryType } from "../../image/tar-header.ts";

const ZEROS = new Uint8Array(2 * BLOCK);
const encoder = new TextEncoder();

export class ArchiveWriter {
  readonly #sink: ByteSink;
  readonly #mtimeNs: bigint;

  constructor(sink: ByteSink, mtimeSeconds: number) {
    this.#sink = sink;
    this.#mtimeNs = BigInt(mtimeSeconds) * 1_000_000_000n;
  }

  async dir(name: string): Promise<void> {
    await this.#header(`${name.replace(/\/$/, "")}/`, "dir", 0o755, 0);
  }

  async file(name: string, data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    await this.#header(name, "file", 0o644, bytes.byteLength);
    await this.#sink.write(bytes);
    await this.#pad(bytes.byteLength);
  }

  /** A file of exactly `size` bytes from a stream (a blob on disk). */
  async stream(name: string, size: number, data: ReadableStream<Uint8Array>): Promise<void> {
    await this.#header(name, "file", 0o644, size);
    let written = 0;
    for await (const chunk of data) {
      written += chunk.byteLength;
      if (written > size) break;
      await this.#sink.write(chunk);
    }
    if (written !== size) throw new BuildkitError("FailedPrecondition", `writing ${name}: expected ${size} bytes, the blob has ${written > size ? "more" : written}`);
    await this.#pad(size);
  }

  /** The end-of-archive blocks; closes the sink. */
  async end(): Promise<void> {
    await this.#sink.write(ZEROS);
    await this.#sink.close();
  }

  async #header(name: string, type: EntryType, mode: number, size: number): Promise<void> {
    const header = { name, type, mode, uid: 0, gid: 0, size, mtimeNs: this.#mtimeNs, linkname: "", devmajor: 0, devminor: 0, xattrs: [] };
    await this.#sink.write(encodeHeader(header, { format: "unknown" })); // containerd's exporter sets no Header.Format
  }

  async #pad(size: number): Promise<void> {
    const pad = padding(size);
    if (pad > 0) await this.#sink.write(ZEROS.subarray(0, pad));
  }
}

/** A sink over a Writable; closing ends it (and waits for it to finish) unless it is this process's stdout. */
export function writableSink(out: Writable): ByteSink {
  return {
    async write(chunk) {
      const copy = Buffer.from(chunk);
      if (out.write(copy)) return;
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          out.off("drain", done);
          out.off("error", done);
          if (err) reject(err);
          else resolve();
        };
        out.once("drain", done);
        out.once("error", done);
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (out === process.stdout) return out.writableNeedDrain ? void out.once("drain", () => resolve()) : resolve();
        out.once("error", reject);
        out.end(() => resolve());
      }),
    abort: async () => {},
  };
}
