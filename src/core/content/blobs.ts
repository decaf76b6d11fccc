/**
 * Blob operations every content store supports, written once over the ContentStore contract:
 * streaming a blob of known or unknown digest in, small blobs as bytes both ways.
 */
import { sha256 } from "../digest.ts";
import type { Digest } from "../digest.ts";
import { BuildkitError } from "../errors.ts";
import type { Descriptor } from "../image/oci-types.ts";
import type { ContentStore, ContentWriter } from "../worker/content-store.ts";

/** The blob's size when it is present, else undefined. */
export async function blobSize(store: ContentStore, digest: Digest): Promise<number | undefined> {
  return (await store.info(digest))?.size;
}

/** Streams data into a writer; the writer is aborted if the stream or a write fails. */
async function pump(writer: ContentWriter, data: ReadableStream<Uint8Array>, onChunk?: (chunk: Uint8Array) => void): Promise<number> {
  let size = 0;
  try {
    for await (const chunk of data) {
      onChunk?.(chunk);
      size += chunk.byteLength;
      await writer.write(chunk);
    }
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
  return size;
}

async function commit(writer: ContentWriter, digest: Digest, size: number): Promise<void> {
  try {
    await writer.commit({ digest, size });
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
}

/** Streams data into the store as digest's blob; the store checks the bytes against the digest. */
export async function writeBlob(store: ContentStore, digest: Digest, data: ReadableStream<Uint8Array>, opts: { signal?: AbortSignal } = {}): Promise<void> {
  const writer = await store.writer(opts);
  await commit(writer, digest, await pump(writer, data));
}

/** A blob being stored while its bytes are also read by someone else; see {@link storeWhileReading}. */
export interface StoringBlob {
  /** The blob's bytes, each chunk already handed to the store; pulled at the reader's pace. */
  readonly stream: ReadableStream<Uint8Array>;
  /** Stores what the reader left unread, then commits: the store checks size and digest. */
  done(): Promise<void>;
  /** Stops the download and drops the partial blob. */
  abort(): Promise<void>;
}

/**
 * Stores data as digest's blob while handing the same chunks to a reader (a layer being
 * unpacked as it downloads): one pipeline, so nothing is buffered beyond a chunk and the download
 * goes at the slower side's pace, where a tee() would buffer a fast download for a slow reader.
 * The reader may stop early (a tar's trailing padding, a cancel): done() reads on to the end.
 * Reads and writes are serialized, so chunks reach the store in order whoever pulls them.
 */
export async function storeWhileReading(store: ContentStore, digest: Digest, data: ReadableStream<Uint8Array>, opts: { signal?: AbortSignal } = {}): Promise<StoringBlob> {
  const writer = await store.writer(opts);
  const reader = data.getReader();
  let size = 0;
  let ended = false;
  /** The next chunk, stored; undefined at the end. */
  const step = async (): Promise<Uint8Array | undefined> => {
    const r = await reader.read();
    if (r.done) {
      ended = true;
      return undefined;
    }
    size += r.value.byteLength;
    await writer.write(r.value);
    return r.value;
  };
  let tail: Promise<unknown> = Promise.resolve();
  const next = (): Promise<Uint8Array | undefined> => {
    const p = tail.then(step);
    tail = p.catch(() => undefined);
    return p;
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        const chunk = await next();
        if (chunk === undefined) c.close();
        else c.enqueue(chunk);
      },
      // The reader giving up does not end the download: done() or abort() decides.
      cancel: () => undefined,
    },
    { highWaterMark: 0 },
  );
  return {
    stream,
    async done() {
      try {
        while (!ended) await next();
      } catch (err) {
        await writer.abort().catch(() => undefined);
        throw err;
      }
      await commit(writer, digest, size);
    },
    async abort() {
      await reader.cancel().catch(() => undefined);
      await tail;
      await writer.abort().catch(() => undefined);
    },
  };
}

/** Streams data of unknown digest into the store, hashing it on the way; returns its descriptor fields. */
export async function ingestBlob(store: ContentStore, data: ReadableStream<Uint8Array>, opts: { signal?: AbortSignal } = {}): Promise<{ digest: Digest; size: number }> {
  const hasher = new Bun.CryptoHasher("sha256");
  const writer = await store.writer(opts);
  const size = await pump(writer, data, (chunk) => hasher.update(chunk));
  const digest = `sha256:${hasher.digest("hex")}` as Digest;
  await commit(writer, digest, size);
  return { digest, size };
}

/** Stores small bytes (a config, a manifest) and returns their descriptor. */
export async function putBlob(store: ContentStore, mediaType: string, bytes: Uint8Array): Promise<Descriptor> {
  const digest = sha256(bytes);
  const desc: Descriptor = { mediaType, digest, size: bytes.byteLength };
  if ((await blobSize(store, digest)) === bytes.byteLength) return desc;
  const writer = await store.writer();
  await pump(writer, new Blob([bytes]).stream());
  await commit(writer, digest, bytes.byteLength);
  return desc;
}

/** A small blob's bytes (manifests, configs); refuses one larger than maxBytes. */
export async function readBlob(store: ContentStore, digest: Digest, maxBytes = 32 << 20): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of store.read(digest)) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new BuildkitError("FailedPrecondition", `reading blob ${digest}: larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A WritableStream over a writer (for writers of layers); commit and abort stay the caller's. */
export function writerSink(writer: ContentWriter): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({ write: (chunk) => writer.write(chunk) });
}
