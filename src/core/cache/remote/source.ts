/** An imported cache: its records and where its blobs come from. */
import type { Digest } from "../../digest.ts";
import type { Descriptor } from "../../image/oci-types.ts";
import type { CacheDocument } from "./format.ts";

export interface BlobSource {
  /** The blob's bytes; the stream errors unless they match desc's digest and size. */
  fetch(desc: Descriptor, signal: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /** Called once a blob from here is stored (a registry remembers where it is, for mounts). */
  fetched?(digest: Digest): void;
}

export interface LoadedCache {
  /** The directory or ref it was read from. */
  readonly name: string;
  readonly doc: CacheDocument;
  readonly source: BlobSource;
}
