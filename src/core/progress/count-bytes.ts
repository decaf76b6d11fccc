/**
 * A stream passed through unchanged, telling `onBytes` the running total after each chunk: how
 * downloads (image layers, cache blobs, http bodies) report their progress while being stored.
 */
export function countBytes(stream: ReadableStream<Uint8Array>, onBytes: (total: number) => void): ReadableStream<Uint8Array> {
  let total = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        total += chunk.byteLength;
        onBytes(total);
        c.enqueue(chunk);
      },
    }),
  );
}
