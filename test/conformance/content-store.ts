// The shared ContentStore suite: every backend's blob store keeps blobs whole and checked.
import { describe, expect, test } from "bun:test";
import { blobSize, ingestBlob, putBlob, readBlob, storeWhileReading, writeBlob } from "../../src/core/content/blobs.ts";
import { sha256 } from "../../src/core/digest.ts";
import type { Digest } from "../../src/core/digest.ts";
import { BuildkitError } from "../../src/core/errors.ts";
import type { ContentStore } from "../../src/core/worker/content-store.ts";

export interface ContentStoreFixture {
  readonly content: ContentStore;
  cleanup(): Promise<void>;
}

const enc = new TextEncoder();
const streamOf = (...parts: Uint8Array[]) => new Blob(parts).stream();

async function listed(store: ContentStore): Promise<string[]> {
  const out: string[] = [];
  for await (const i of store.list()) out.push(`${i.digest}:${i.size}`);
  return out.sort();
}

export function describeContentStore(name: string, factory: () => Promise<ContentStoreFixture>): void {
  const withStore = async (fn: (s: ContentStore) => Promise<void>) => {
    const f = await factory();
    try {
      await fn(f.content);
    } finally {
      await f.cleanup();
    }
  };

  describe(`ContentStore conformance: ${name}`, () => {
    test("put, info, read, list, delete", () =>
      withStore(async (s) => {
        const desc = await putBlob(s, "text/plain", enc.encode("hello"));
        expect(desc).toEqual({ mediaType: "text/plain", digest: sha256("hello"), size: 5 });
        expect(await s.info(desc.digest)).toEqual({ digest: desc.digest, size: 5 });
        expect(new TextDecoder().decode(await readBlob(s, desc.digest))).toBe("hello");
        expect(await listed(s)).toEqual([`${desc.digest}:5`]);
        expect(await putBlob(s, "text/plain", enc.encode("hello"))).toEqual(desc);
        expect(await s.delete(desc.digest)).toBe(true);
        expect(await s.delete(desc.digest)).toBe(false);
        expect(await s.info(desc.digest)).toBeUndefined();
        expect(await listed(s)).toEqual([]);
      }));

    test("a large blob streams in and out in pieces", () =>
      withStore(async (s) => {
        const piece = new Uint8Array(256 * 1024).map((_, i) => i % 251);
        const parts = Array.from({ length: 24 }, () => piece);
        const { digest, size } = await ingestBlob(s, streamOf(...parts));
        expect(size).toBe(24 * piece.byteLength);
        const h = new Bun.CryptoHasher("sha256");
        let n = 0;
        for await (const chunk of s.read(digest)) {
          h.update(chunk);
          n += chunk.byteLength;
        }
        expect(n).toBe(size);
        expect(`sha256:${h.digest("hex")}`).toBe(digest);
      }));

    test("a write whose bytes do not match the digest stores nothing", () =>
      withStore(async (s) => {
        const claimed = sha256("expected");
        const err = await writeBlob(s, claimed, streamOf(enc.encode("something else"))).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(BuildkitError);
        expect(await blobSize(s, claimed)).toBeUndefined();
        expect(await listed(s)).toEqual([]);
      }));

    test("a failing stream stores nothing; an aborted writer leaves nothing", () =>
      withStore(async (s) => {
        const failing = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(enc.encode("part"));
            c.error(new Error("network down"));
          },
        });
        expect(await ingestBlob(s, failing).then(() => "stored", (e: unknown) => (e as Error).message)).toBe("network down");
        const w = await s.writer();
        await w.write(enc.encode("half"));
        await w.abort();
        expect(await listed(s)).toEqual([]);
      }));

    test("reading a missing blob fails with NotFound", () =>
      withStore(async (s) => {
        const missing = sha256("missing") as Digest;
        const err = await readBlob(s, missing).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(BuildkitError);
        expect((err as BuildkitError).code).toBe("NotFound");
      }));

    test("two writers of the same blob both succeed", () =>
      withStore(async (s) => {
        const bytes = enc.encode("same".repeat(1000));
        const [a, b] = await Promise.all([ingestBlob(s, streamOf(bytes)), ingestBlob(s, streamOf(bytes))]);
        expect(a).toEqual(b);
        expect(await listed(s)).toEqual([`${a.digest}:${bytes.byteLength}`]);
      }));

    test("stored while read: the reader sees every chunk in order; what it leaves unread is stored by done()", () =>
      withStore(async (s) => {
        const parts = Array.from({ length: 8 }, (_, i) => new Uint8Array(4096).fill(i + 1));
        const whole = Buffer.concat(parts);
        const digest = sha256(whole) as Digest;
        const storing = await storeWhileReading(s, digest, streamOf(...parts));
        const reader = storing.stream.getReader();
        const seen: Uint8Array[] = [];
        let got = 0;
        while (got < 3 * 4096) {
          const r = await reader.read();
          if (r.done) break;
          seen.push(r.value);
          got += r.value.byteLength;
        }
        await reader.cancel(); // the reader stops early, as a tar reader does at its end marker
        expect(Buffer.concat(seen).equals(whole.subarray(0, got))).toBe(true);
        expect(await blobSize(s, digest)).toBeUndefined(); // nothing is there before done()
        await storing.done();
        expect(Buffer.from(await readBlob(s, digest)).equals(whole)).toBe(true);
      }));

    test("stored while read: bytes that do not match the digest fail done() and store nothing; abort leaves nothing", () =>
      withStore(async (s) => {
        const bytes = enc.encode("not what the digest says");
        const wrong = await storeWhileReading(s, sha256("something else") as Digest, streamOf(bytes));
        for await (const _ of wrong.stream) {
          // read it all
        }
        expect(await wrong.done().then(() => undefined, (e: unknown) => e)).toBeInstanceOf(Error);
        const stopped = await storeWhileReading(s, sha256(bytes) as Digest, streamOf(bytes, bytes));
        await stopped.stream.getReader().read();
        await stopped.abort();
        expect(await listed(s)).toEqual([]);
      }));
  });
}
