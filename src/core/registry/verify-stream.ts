/**
 * Streams a blob through while hashing and counting it: more bytes than the descriptor's size
 * fail at once, and at the end a wrong size or digest errors the stream, so a consumer that
 * commits only on a clean end never keeps bad content. Nothing is buffered beyond one chunk.
 */
import type { Digest } from "../digest.ts";
import { BuildkitError } from "../errors.ts";
import { readError } from "./net-errors.ts";

export interface Expected {
  readonly digest: Digest;
  readonly size?: number;
}

export function digestMismatch(expected: Digest, got: string): BuildkitError {
  return new BuildkitError("InvalidArgument", `blob ${expected}: digest mismatch (got ${got})`);
}

function sizeMismatch(expected: Expected, got: number, more: boolean): BuildkitError {
  const gotText = more ? `more than ${expected.size ?? 0}` : String(got);
  return new BuildkitError("InvalidArgument", `blob ${expected.digest}: size mismatch (expected ${expected.size} bytes, got ${gotText})`);
}

/** A stream of body's bytes that errors unless they hash to expected.digest (and have its size). */
export function verifyingStream(body: ReadableStream<Uint8Array>, expected: Expected): ReadableStream<Uint8Array> {
  const hasher = new Bun.CryptoHasher("sha256");
  const reader = body.getReader();
  let seen = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read().catch((err: unknown) => {
        throw readError(`blob ${expected.digest}`, err);
      });
      if (done) {
        if (expected.size !== undefined && seen !== expected.size) throw sizeMismatch(expected, seen, false);
        const got = `sha256:${hasher.digest("hex")}`;
        if (got !== expected.digest) throw digestMismatch(expected.digest, got);
        controller.close();
        return;
      }
      seen += value.byteLength;
      if (expected.size !== undefined && seen > expected.size) {
        await reader.cancel().catch(() => undefined);
        throw sizeMismatch(expected, seen, true);
      }
      hasher.update(value);
      controller.enqueue(value);
    },
    async cancel(reason) {
      await reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** Reads a whole (small, verified) stream into memory, refusing more than limit bytes. */
export async function readAll(stream: ReadableStream<Uint8Array>, limit: number, what: string): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read().catch((err: unknown) => {
      throw readError(what, err);
    });
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BuildkitError("InvalidArgument", `reading ${what}: larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return chunks.length === 1 && chunks[0] ? chunks[0] : new Uint8Array(Buffer.concat(chunks));
}
