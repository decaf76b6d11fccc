/**
 * The worker's blob store (pulled and exported layers, configs, manifests):
 * ROOT/content/blobs/sha256/<hex>, as in an OCI image layout. A blob is written to a temporary name beside its final place and renamed in
 * once complete, so a present blob is always whole; writing one that exists is a no-op.
 */
import { randomUUID } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { sha256 } from "../digest.ts";
import type { Digest } from "../digest.ts";
import { BuildkitError } from "../errors.ts";
import type { Descriptor } from "../image/oci-types.ts";

export class ContentStore {
  readonly dir: string;
  readonly #blobs: string;

  constructor(root: string) {
    this.dir = join(root, "content");
    this.#blobs = join(this.dir, "blobs", "sha256");
  }

  blobPath(digest: Digest): string {
    return join(this.#blobs, hexOf(digest));
  }

  /** The blob's size when it is present, else undefined. */
  async size(digest: Digest): Promise<number | undefined> {
    const st = await stat(this.blobPath(digest)).catch(() => undefined);
    return st?.isFile() ? st.size : undefined;
  }

  /** A fresh temporary path in the store (same filesystem as the blobs, for rename). */
  async tempPath(): Promise<string> {
    await mkdir(this.#blobs, { recursive: true });
    return join(this.#blobs, `.tmp-${process.pid}-${randomUUID()}`);
  }

  /** Moves a finished temporary file into place as digest's blob. */
  async commit(temp: string, digest: Digest): Promise<void> {
    try {
      await rename(temp, this.blobPath(digest));
    } catch (err) {
      await rm(temp, { force: true });
      throw new BuildkitError("Internal", `storing blob ${digest}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  /** Stores small bytes (a config, a manifest) and returns their descriptor. */
  async put(mediaType: string, bytes: Uint8Array): Promise<Descriptor> {
    const digest = sha256(bytes);
    const desc: Descriptor = { mediaType, digest, size: bytes.byteLength };
    if ((await this.size(digest)) === bytes.byteLength) return desc;
    const temp = await this.tempPath();
    try {
      await Bun.write(temp, bytes);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    await this.commit(temp, digest);
    return desc;
  }

  /**
   * Streams data into the store as digest's blob. The stream must verify its own content
   * (the registry client's blob streams do); nothing is in place unless it completed.
   */
  async write(digest: Digest, data: ReadableStream<Uint8Array>): Promise<void> {
    await this.commit(await this.#writeTemp(data), digest);
  }

  /**
   * Streams data of unknown digest into the store, hashing it on the way; returns its digest.
   * Nothing is in place unless the stream completed.
   */
  async ingest(data: ReadableStream<Uint8Array>): Promise<Digest> {
    const hasher = new Bun.CryptoHasher("sha256");
    const temp = await this.#writeTemp(data, (chunk) => hasher.update(chunk));
    const digest = `sha256:${hasher.digest("hex")}` as Digest;
    await this.commit(temp, digest);
    return digest;
  }

  /** Writes the stream to a fresh temporary path (removed if the stream fails) and returns it. */
  async #writeTemp(data: ReadableStream<Uint8Array>, onChunk?: (chunk: Uint8Array) => void): Promise<string> {
    const temp = await this.tempPath();
    try {
      const sink = Bun.file(temp).writer();
      try {
        for await (const chunk of data) {
          onChunk?.(chunk);
          sink.write(chunk);
        }
      } finally {
        await sink.end();
      }
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return temp;
  }

  /** The blob's bytes, streamed from disk. */
  stream(digest: Digest): ReadableStream<Uint8Array> {
    return Bun.file(this.blobPath(digest)).stream();
  }
}

export function hexOf(digest: Digest): string {
  return digest.slice("sha256:".length);
}
