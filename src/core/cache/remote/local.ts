/**
 * `type=local`: the cache as an OCI image layout directory (image/layout-dir.ts), the cache
 * manifest listed in index.json under its tag.
 */
import { readFile } from "node:fs/promises";
import { sha256 } from "../../digest.ts";
import { BuildkitError } from "../../errors.ts";
import type { Descriptor } from "../../image/oci-types.ts";
import { blobPath, taggedInLayout, writeLayout } from "../../image/layout-dir.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import { verifyingStream } from "../../registry/verify-stream.ts";
import type { EncodedBuildkitCache } from "./buildkit-format.ts";
import { loadCacheFromTop } from "./loaded-cache.ts";
import type { BlobSource, LoadedCache } from "./source.ts";

const MAX_SMALL_BLOB = 32 << 20;

/** Writes the cache into dest as an OCI layout, tagged tag; layers are read from content. */
export async function writeLocalCache(dest: string, tag: string, encoded: EncodedBuildkitCache, layers: readonly Descriptor[], content: ContentStore): Promise<void> {
  const small = [encoded.config, encoded.index].map((b) => ({ desc: b.descriptor, bytes: b.bytes }));
  await writeLayout(dest, tag, encoded.index.descriptor, [...layers.map((desc) => ({ desc })), ...small], content);
}

async function readSmallBlob(dir: string, desc: Descriptor, what: string): Promise<Uint8Array> {
  if (desc.size > MAX_SMALL_BLOB) throw new BuildkitError("InvalidArgument", `${what} ${desc.digest}: larger than ${MAX_SMALL_BLOB} bytes`);
  const bytes = await readFile(blobPath(dir, desc.digest)).catch(() => undefined);
  if (bytes === undefined) throw new BuildkitError("NotFound", `${what} ${desc.digest} is missing`);
  const got = sha256(bytes);
  if (got !== desc.digest) throw new BuildkitError("InvalidArgument", `${what} ${desc.digest}: digest mismatch (got ${got})`);
  return new Uint8Array(bytes);
}

/** Reads the cache tagged tag from the layout at src; its blobs are verified as they stream. */
export async function readLocalCache(src: string, tag: string): Promise<LoadedCache> {
  const entry = await taggedInLayout(src, tag);
  if (entry === undefined) throw new BuildkitError("NotFound", `${src} is not an OCI image layout (no index.json)`);
  const top = await readSmallBlob(src, entry, "cache index");
  const source: BlobSource = {
    async fetch(desc) {
      const file = Bun.file(blobPath(src, desc.digest));
      if (!(await file.exists())) throw new BuildkitError("NotFound", `blob ${desc.digest} is missing from ${src}`);
      return verifyingStream(file.stream(), desc);
    },
  };
  return await loadCacheFromTop(src, top, (desc, what) => readSmallBlob(src, desc, what), source);
}
