/** Where a layer's compressed bytes go: a file path or a WritableStream, behind one interface. */
import { open, rm } from "node:fs/promises";

export interface ByteSink {
  /** Resolves when the chunk may be reused by nobody but the sink (it is written or queued). */
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(reason: unknown): Promise<void>;
}

/** A sink writing a new file (truncating an existing one); the file is removed on abort. */
export async function fileSink(path: string): Promise<ByteSink> {
  const handle = await open(path, "w", 0o644);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    async write(chunk) {
      let pos = 0;
      while (pos < chunk.length) pos += (await handle.write(chunk, pos, chunk.length - pos)).bytesWritten;
    },
    close,
    async abort() {
      await close().catch(() => {});
      await rm(path, { force: true });
    },
  };
}

/** A sink over a WritableStream, honouring its backpressure. */
export function streamSink(stream: WritableStream<Uint8Array>): ByteSink {
  const writer = stream.getWriter();
  return {
    async write(chunk) {
      await writer.ready;
      await writer.write(chunk);
    },
    close: () => writer.close(),
    abort: (reason) => writer.abort(reason).catch(() => {}),
  };
}
