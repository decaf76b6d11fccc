/**
 * The ContentStore contract over containerd's content service. Writes are ingests under the
 * process lease (a killed process's half-written blobs expire with it); a committed blob is
 * added to the cache lease, which is what keeps it, and what list() enumerates: blobs other
 * clients keep in the same namespace are not this worker's to collect.
 */
import { randomUUID } from "node:crypto";
import { isDigest } from "../../core/digest.ts";
import type { Digest } from "../../core/digest.ts";
import { BuildkitError } from "../../core/errors.ts";
import type { ContentInfo, ContentStore, ContentWriter } from "../../core/worker/content-store.ts";
import { isNotFound, type ContainerdClient } from "./client.ts";
import { containerdPb } from "./pb/index.ts";
import { ContentService, LeasesService } from "./services.ts";

type WriteRequest = containerdPb.containerd.services.content.v1.IWriteContentRequest;

const C = ContentService.methods;
const WriteAction = containerdPb.containerd.services.content.v1.WriteAction;
/** Bytes sent per Write message: fewer round trips than one per incoming chunk. */
/**
 * Bytes sent on one Write stream at most. Bun's http2 ignores a peer's mid-stream raise of
 * INITIAL_WINDOW_SIZE (src/api/grpc/window-fix.ts), and containerd's grpc-go raises it while a
 * large blob streams in: a stream that needs more credit than Bun's initial 64 KiB can then wait
 * for it forever. A stream that never sends more than that needs no credit at all, so a large
 * blob goes in over successive streams, resuming the same ingest ref (containerd's ingests are
 * resumable).
 */
const STREAM_BUDGET = 60 * 1024;
const WRITE_BATCH = 48 * 1024;

export function createContainerdContentStore(client: ContainerdClient, leases: { readonly cache: string; readonly process: string }): ContentStore {
  const keep = (digest: Digest) =>
    client.unary(`leasing blob ${digest}`, LeasesService.methods.AddResource, { id: leases.cache, resource: { id: digest, type: "content" } });

  async function info(digest: Digest): Promise<ContentInfo | undefined> {
    try {
      const res = await client.unary(`reading blob info ${digest}`, C.Info, { digest });
      return { digest, size: res.info?.size ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  return {
    info,
    read(digest, opts = {}) {
      const call = client.serverStream(C.Read, { digest }, { signal: opts.signal });
      const it = call[Symbol.asyncIterator]();
      return new ReadableStream<Uint8Array>({
        async pull(c) {
          try {
            const next = await it.next();
            if (next.done) c.close();
            else if (next.value.data && next.value.data.byteLength > 0) c.enqueue(next.value.data);
          } catch (err) {
            throw client.error(`reading blob ${digest}`, err);
          }
        },
        cancel: () => call.cancel(),
      });
    },
    async writer(opts = {}) {
      return new IngestWriter(client, { lease: leases.process, signal: opts.signal }, keep);
    },
    async delete(digest) {
      try {
        await client.unary(`deleting blob ${digest}`, C.Delete, { digest });
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },
    async *list() {
      const res = await client.unary("listing leased blobs", LeasesService.methods.ListResources, { id: leases.cache });
      for (const r of res.resources ?? []) {
        if (r.type !== "content" || !r.id || !isDigest(r.id)) continue;
        const found = await info(r.id);
        if (found) yield found;
      }
    },
  };
}

/** One Write stream: WRITE messages in lockstep with containerd's replies, then COMMIT. */
class IngestWriter implements ContentWriter {
  readonly #client: ContainerdClient;
  readonly #opts: { lease: string; signal?: AbortSignal };
  readonly #ref = `buildkit-ts-${randomUUID()}`;
  #call;
  #replies: AsyncIterator<unknown>;
  readonly #keep: (d: Digest) => Promise<unknown>;
  #offset = 0;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Bytes of data sent on the current stream (see STREAM_BUDGET). */
  #streamBytes = 0;

  constructor(client: ContainerdClient, opts: { lease: string; signal?: AbortSignal }, keep: (d: Digest) => Promise<unknown>) {
    this.#client = client;
    this.#opts = opts;
    this.#keep = keep;
    this.#call = client.bidi(C.Write, opts);
    this.#replies = this.#call.messages[Symbol.asyncIterator]();
  }

  /** Ends the current stream (containerd then releases the ingest's lock) and opens the next. */
  async #nextStream(): Promise<void> {
    this.#call.end();
    while (!(await this.#replies.next()).done);
    this.#call = this.#client.bidi(C.Write, this.#opts);
    this.#replies = this.#call.messages[Symbol.asyncIterator]();
    this.#streamBytes = 0;
  }

  async #exchange(req: WriteRequest, what: string): Promise<void> {
    try {
      const size = req.data?.byteLength ?? 0;
      if (this.#streamBytes > 0 && this.#streamBytes + size > STREAM_BUDGET) await this.#nextStream();
      // Every stream names the ingest: the first opens it, later ones resume it.
      await this.#call.send({ ...req, ref: this.#ref });
      this.#streamBytes += size + 128;
      const reply = await this.#replies.next();
      if (reply.done) throw new BuildkitError("Internal", "the write stream ended early");
    } catch (err) {
      throw this.#client.error(what, err);
    }
  }

  async #flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const data = this.#pending.length === 1 ? (this.#pending[0] as Uint8Array) : Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingBytes = 0;
    await this.#exchange({ action: WriteAction.WRITE, offset: this.#offset, data }, `writing blob ${this.#ref}`);
    this.#offset += data.byteLength;
  }

  async write(chunk: Uint8Array): Promise<void> {
    // Copied: the caller may reuse the chunk once this resolves.
    this.#pending.push(chunk.slice());
    this.#pendingBytes += chunk.byteLength;
    if (this.#pendingBytes >= WRITE_BATCH) await this.#flush();
  }

  async commit(expected: ContentInfo): Promise<void> {
    await this.#flush();
    try {
      await this.#exchange({ action: WriteAction.COMMIT, offset: this.#offset, total: expected.size, expected: expected.digest }, `storing blob ${expected.digest}`);
    } catch (err) {
      // Another writer stored the same blob first: it is whole, so this write is done.
      if (!(err instanceof BuildkitError && err.code === "AlreadyExists")) throw err;
    }
    this.#call.end();
    await this.#keep(expected.digest);
  }

  async abort(): Promise<void> {
    this.#call.cancel();
    await this.#client.unary(`aborting ingest ${this.#ref}`, C.Abort, { ref: this.#ref }).catch(() => undefined);
  }
}
