/**
 * Daemon side of BuildKit's session/content (NewCallerStore): a content store the client serves
 * over its session, chosen by id (`local:DIR` for a local cache directory), behind our
 * ContentStore contract. Reads stream ReadContent replies; writes follow containerd's remote
 * writer: a STAT opens the ingest under a ref of its own, WRITE messages carry the bytes at
 * their offset, COMMIT names the size and digest the client's store checks.
 */
import { randomUUID } from "node:crypto";
import { isDigest, type Digest } from "../../../core/digest.ts";
import { BuildkitError, withContext } from "../../../core/errors.ts";
import type { ContentInfo, ContentStore, ContentWriter } from "../../../core/worker/content-store.ts";
import type { CallOptions, MessageStream, SessionCaller } from "../session.ts";
import { contentAbort, contentDelete, contentInfo, contentList, contentRead, contentWrite, STORE_ID_HEADER, WriteAction } from "./methods.ts";
import type { WriteRequest, WriteResponse } from "./methods.ts";

/** Bytes per WRITE message at most (a chunk larger than this is split). */
const MAX_WRITE = 1 << 20;

/** The client's store `storeId` (BuildKit's session/content NewCallerStore). */
export function sessionContentStore(caller: SessionCaller, storeId: string): ContentStore {
  const opts = (signal?: AbortSignal): CallOptions => ({ metadata: { [STORE_ID_HEADER]: [storeId] }, ...(signal ? { signal } : {}) });
  // A client without this store answers NotFound "unknown store ID" (BuildKit's attachable words
  // it so), one serving no stores at all Unimplemented: both mean the store, not a blob, is missing.
  const noStore = (err: unknown) => err instanceof BuildkitError && (err.code === "Unimplemented" || (err.code === "NotFound" && /unknown store/.test(err.message)));
  const fail = (what: string, err: unknown) =>
    noStore(err) ? new BuildkitError("NotFound", `the client serves no content store ${storeId}`, { cause: err }) : withContext(`${what} in the client's content store ${storeId}`, err);
  const notFound = (err: unknown) => err instanceof BuildkitError && err.code === "NotFound" && !noStore(err);

  return {
    async info(digest) {
      try {
        const res = await caller.unary(contentInfo, { digest }, opts());
        return { digest, size: Number(res.info?.size ?? 0) };
      } catch (err) {
        if (notFound(err)) return undefined;
        throw fail(`reading blob info ${digest}`, err);
      }
    },
    read(digest, readOpts = {}) {
      let stream: MessageStream<{ data?: Uint8Array | null }, { digest: string }> | undefined;
      return new ReadableStream<Uint8Array>({
        async start() {
          stream = caller.stream(contentRead, opts(readOpts.signal));
          try {
            await stream.send({ digest });
            stream.end();
          } catch (err) {
            throw fail(`reading blob ${digest}`, err);
          }
        },
        async pull(c) {
          try {
            for (;;) {
              const next = await stream?.recv();
              if (next === undefined) return c.close();
              if (next.data && next.data.byteLength > 0) return c.enqueue(next.data);
            }
          } catch (err) {
            throw fail(`reading blob ${digest}`, err);
          }
        },
        cancel() {
          stream?.end();
        },
      });
    },
    async writer(writeOpts = {}) {
      const ref = `buildkit-ts-${randomUUID()}`;
      const abort = () => caller.unary(contentAbort, { ref }, opts()).then(() => undefined);
      const writer = new SessionWriter(caller.stream(contentWrite, opts(writeOpts.signal)), { ref, storeId, abort });
      await writer.open();
      return writer;
    },
    async delete(digest) {
      try {
        await caller.unary(contentDelete, { digest }, opts());
        return true;
      } catch (err) {
        if (notFound(err)) return false;
        throw fail(`deleting blob ${digest}`, err);
      }
    },
    async *list() {
      const stream = caller.stream(contentList, opts());
      try {
        await stream.send({ filters: [] });
        stream.end();
        for (;;) {
          const res = await stream.recv();
          if (res === undefined) return;
          for (const info of res.info ?? []) if (isDigest(info.digest ?? "")) yield { digest: info.digest as Digest, size: Number(info.size ?? 0) };
        }
      } catch (err) {
        throw fail("listing blobs", err);
      }
    },
  };
}

/** One Write stream, in lockstep with the client's replies (as containerd's remote writer). */
class SessionWriter implements ContentWriter {
  readonly #stream: MessageStream<WriteResponse, WriteRequest>;
  readonly #ref: string;
  readonly #storeId: string;
  readonly #abort: () => Promise<void>;
  #offset = 0;

  constructor(stream: MessageStream<WriteResponse, WriteRequest>, ingest: { ref: string; storeId: string; abort: () => Promise<void> }) {
    this.#stream = stream;
    this.#ref = ingest.ref;
    this.#storeId = ingest.storeId;
    this.#abort = ingest.abort;
  }

  async #exchange(req: WriteRequest, what: string): Promise<WriteResponse> {
    try {
      await this.#stream.send({ ...req, ref: this.#ref });
      const reply = await this.#stream.recv();
      if (reply === undefined) throw new BuildkitError("Internal", "the client ended the write stream early");
      return reply;
    } catch (err) {
      throw withContext(`${what} in the client's content store ${this.#storeId}`, err);
    }
  }

  /** STAT: opens (or resumes) the ingest; the client says how much of it it already has. */
  async open(): Promise<void> {
    const status = await this.#exchange({ action: WriteAction.STAT }, `opening ingest ${this.#ref}`);
    if (Number(status.offset ?? 0) !== 0) {
      throw new BuildkitError("FailedPrecondition", `ingest ${this.#ref} in the client's content store ${this.#storeId} is not new (offset ${status.offset})`);
    }
  }

  async write(chunk: Uint8Array): Promise<void> {
    for (let at = 0; at < chunk.byteLength; at += MAX_WRITE) {
      const data = chunk.subarray(at, Math.min(chunk.byteLength, at + MAX_WRITE));
      const reply = await this.#exchange({ action: WriteAction.WRITE, offset: this.#offset, data }, `writing ingest ${this.#ref}`);
      this.#offset += data.byteLength;
      if (Number(reply.offset ?? 0) !== this.#offset) {
        throw new BuildkitError("Internal", `ingest ${this.#ref} in the client's content store ${this.#storeId}: at offset ${reply.offset} after writing up to ${this.#offset}`);
      }
    }
  }

  async commit(expected: ContentInfo): Promise<void> {
    if (this.#offset !== expected.size) {
      throw new BuildkitError("InvalidArgument", `blob ${expected.digest}: ${this.#offset} bytes written, expected ${expected.size}`);
    }
    try {
      const reply = await this.#exchange({ action: WriteAction.COMMIT, offset: this.#offset, total: expected.size, expected: expected.digest }, `storing blob ${expected.digest}`);
      if (reply.digest && reply.digest !== expected.digest) {
        throw new BuildkitError("Internal", `blob ${expected.digest}: the client's content store ${this.#storeId} committed ${reply.digest}`);
      }
    } catch (err) {
      // The client already has the blob: it is whole, so this write is done.
      if (!(err instanceof BuildkitError && err.code === "AlreadyExists")) throw err;
    }
    this.#stream.end();
  }

  /** Ends the stream and drops the client's half-written ingest. */
  async abort(): Promise<void> {
    this.#stream.end();
    await this.#abort().catch(() => undefined);
  }
}
