/**
 * Blobs put into a content store someone else keeps (a client's, reached through its session):
 * each verified as it streams, and skipped when the store has it whole already.
 */
import { withContext } from "../errors.ts";
import type { Descriptor } from "../image/oci-types.ts";
import { verifyingStream } from "../registry/verify-stream.ts";
import type { ContentStore } from "../worker/content-store.ts";

/** Writes one blob unless the store has it whole already. */
export async function putBlob(target: ContentStore, desc: Pick<Descriptor, "digest" | "size">, body: () => ReadableStream<Uint8Array>, signal: AbortSignal): Promise<void> {
  if ((await target.info(desc.digest))?.size === desc.size) return;
  const writer = await target.writer({ signal });
  try {
    for await (const chunk of verifyingStream(body(), desc)) await writer.write(chunk);
    await writer.commit({ digest: desc.digest, size: desc.size });
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw withContext(`writing blob ${desc.digest}`, err);
  }
}

/** Copies blobs from one store into another, in order (a parent after what it points at). */
export async function copyBlobs(target: ContentStore, source: ContentStore, descs: readonly Descriptor[], signal: AbortSignal): Promise<void> {
  const seen = new Set<string>();
  for (const desc of descs) {
    if (seen.has(desc.digest)) continue;
    seen.add(desc.digest);
    await putBlob(target, desc, () => source.read(desc.digest, { signal }), signal);
  }
}
