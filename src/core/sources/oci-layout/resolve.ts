/**
 * Resolving an image in a client's OCI layout (BuildKit's ociLayoutResolver): the digest the
 * reference carries must be in the client's content store; what it names (an index or a
 * manifest) is read, the platform's manifest picked as for a registry image, and its config
 * read, every document from that store and checked against its digest. Layers come from the
 * same store when the worker lacks them (ociLayoutLayers).
 */
import { sha256, type Digest } from "../../digest.ts";
import { BuildkitError } from "../../errors.ts";
import type { Descriptor } from "../../image/oci-types.ts";
import type { Platform } from "../../llb/platform.ts";
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseImageConfig, parseManifest } from "../../registry/manifest.ts";
import { resolveUnder, type ResolvedImage } from "../../registry/pull.ts";
import type { LoadedConfig, ManifestDoc } from "../../registry/select.ts";
import { verifyingStream } from "../../registry/verify-stream.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import type { LayerProvider } from "../image/unpack.ts";
import type { OciLayoutRef } from "./reference.ts";

/** The client's store for `--oci-layout NAME=DIR`, as BuildKit names it in the session. */
export const ociStoreId = (storeId: string): string => `oci:${storeId}`;

/** A document of the layout, whole and checked (size when known, digest always). */
async function readDoc(store: ContentStore, d: { digest: Digest; size?: number }, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of store.read(d.digest, { signal })) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new BuildkitError("FailedPrecondition", `blob ${d.digest}: larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  if (d.size !== undefined && d.size !== size) throw new BuildkitError("InvalidArgument", `blob ${d.digest}: size mismatch (expected ${d.size} bytes, got ${size})`);
  const got = sha256(bytes);
  if (got !== d.digest) throw new BuildkitError("InvalidArgument", `blob ${d.digest}: digest mismatch (got ${got})`);
  return bytes;
}

async function manifestDoc(store: ContentStore, d: { digest: Digest; size?: number }, signal: AbortSignal): Promise<ManifestDoc> {
  const bytes = await readDoc(store, d, MAX_MANIFEST_BYTES, signal);
  return { bytes, digest: d.digest, parsed: parseManifest(bytes, `manifest ${d.digest}`) };
}

/**
 * The image `ref` names for platform, from `store` (the client's "oci:NAME"); `storeName` only
 * words the errors. A digest the store lacks is NotFound.
 */
export async function resolveOciLayout(store: ContentStore, ref: OciLayoutRef, platform: Platform, storeName: string, signal: AbortSignal): Promise<ResolvedImage> {
  const info = await store.info(ref.digest);
  if (info === undefined) throw new BuildkitError("NotFound", `no such digest in the client's OCI layout ${JSON.stringify(storeName)}`);
  const top = await manifestDoc(store, { digest: ref.digest, size: info.size }, signal);
  const loadConfig = async (d: Descriptor): Promise<LoadedConfig> => {
    const bytes = await readDoc(store, d, MAX_CONFIG_BYTES, signal);
    return { config: parseImageConfig(bytes, `config ${d.digest}`), bytes };
  };
  return resolveUnder(ref.locator, top, platform, { fetchChild: (d) => manifestDoc(store, d, signal), loadConfig });
}

/** Layers from the client's layout, verified while they stream. */
export function ociLayoutLayers(store: ContentStore): LayerProvider {
  return { fetch: async (layer, signal) => verifyingStream(store.read(layer.digest, { signal }), layer) };
}
