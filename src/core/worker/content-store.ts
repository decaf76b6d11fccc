import type { Digest } from "../digest.ts";

/** What the store knows of a blob besides its bytes. */
export interface ContentInfo {
  readonly digest: Digest;
  readonly size: number;
}

/**
 * One blob being written. Bytes go in order; commit names them by the digest the writer
 * computed or was told, and the store checks it: a blob is never present unless it is whole
 * and its bytes hash to its digest. Committing a blob that is already present succeeds.
 */
export interface ContentWriter {
  write(chunk: Uint8Array): Promise<void>;
  commit(expected: ContentInfo): Promise<void>;
  /** Drops what was written; safe after a failed write or commit. */
  abort(): Promise<void>;
}

/**
 * A worker's blob store (layers, configs, manifests), in containerd's vocabulary: blobs are
 * addressed only by digest, read and written as streams; where and how they are kept (files
 * under the state directory, containerd's content service) is the implementation's business.
 */
export interface ContentStore {
  /** The blob's info when it is present, else undefined. */
  info(digest: Digest): Promise<ContentInfo | undefined>;
  /** The blob's bytes; the stream fails with NotFound when it is absent. */
  read(digest: Digest, opts?: { signal?: AbortSignal }): ReadableStream<Uint8Array>;
  writer(opts?: { signal?: AbortSignal }): Promise<ContentWriter>;
  /** Removes the blob; false when it was not there. */
  delete(digest: Digest): Promise<boolean>;
  /** Every blob present. */
  list(): AsyncIterable<ContentInfo>;
}
