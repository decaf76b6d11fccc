/**
 * A digest-pinned image resolved from the content store, without the network: a pull keeps the
 * index (when the ref named one), the platform's manifest and its config as blobs, so the next
 * build of `name@sha256:…` reads them back (the digest pins the bytes; the store verified them on
 * the way in). Anything missing, and the registry is asked as before. Tags always go to the
 * registry: a tag can move.
 */
import { isDigest, type Digest } from "../../digest.ts";
import { blobSize, putBlob, readBlob } from "../../content/blobs.ts";
import type { Platform } from "../../llb/platform.ts";
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseImageConfig, parseManifest } from "../../registry/manifest.ts";
import type { Descriptor } from "../../registry/manifest.ts";
import { resolveUnder, type ResolvedImage } from "../../registry/pull.ts";
import { parseRef, repositoryName } from "../../registry/repository.ts";
import type { LoadedConfig, ManifestDoc } from "../../registry/select.ts";
import type { ContentIndex } from "../../content/index-db.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import { readImages } from "../../content/local-images.ts";
import { normalizeImageRef } from "../../reference/docker-ref.ts";

/** Thrown inside the local resolution when a blob is not there: the caller then asks the registry. */
class NotLocal extends Error {}

async function localBytes(content: ContentStore, digest: Digest, maxBytes: number, size?: number): Promise<Uint8Array> {
  const have = await blobSize(content, digest);
  if (have === undefined || (size !== undefined && have !== size) || have > maxBytes) throw new NotLocal(digest);
  return readBlob(content, digest, maxBytes);
}

async function localManifest(content: ContentStore, digest: Digest, size?: number): Promise<ManifestDoc> {
  const bytes = await localBytes(content, digest, MAX_MANIFEST_BYTES, size);
  return { bytes, digest, parsed: parseManifest(bytes, `manifest ${digest}`) };
}

/** The image under the manifest or index `top` for platform, every blob read from the content store; undefined when one is missing. */
async function resolveStored(content: ContentStore, repository: string, top: { digest: Digest; size?: number }, platform: Platform): Promise<ResolvedImage | undefined> {
  try {
    const doc = await localManifest(content, top.digest, top.size);
    const loadConfig = async (d: Descriptor): Promise<LoadedConfig> => {
      const bytes = await localBytes(content, d.digest, MAX_CONFIG_BYTES, d.size);
      return { config: parseImageConfig(bytes, `config ${d.digest}`), bytes };
    };
    return await resolveUnder(repository, doc, platform, { fetchChild: (d) => localManifest(content, d.digest, d.size), loadConfig });
  } catch (err) {
    if (err instanceof NotLocal) return undefined;
    throw err;
  }
}

/** The image `ref` names for platform, from the content store; undefined unless ref is pinned and every blob is there. */
export async function resolveFromStore(content: ContentStore, ref: string, platform: Platform): Promise<ResolvedImage | undefined> {
  const parsed = parseRef(ref, "resolving image");
  if (parsed.digest === undefined || !isDigest(parsed.digest)) return undefined;
  return resolveStored(content, repositoryName(parsed), { digest: parsed.digest }, platform);
}

/**
 * The image named `ref` in the worker's image store (ROOT/images.json: images exported with
 * type=image and store, BuildKit's containerd image store), resolved for platform from the
 * content store; undefined when no image has that name or a blob it needs is missing. `ref` is
 * looked up as written after normalizing (docker.io/library/busybox:latest), as BuildKit's
 * images.Store.Get looks up the name it is given.
 */
export async function resolveNamedFromStore(content: ContentStore, root: string, ref: string, platform: Platform): Promise<ResolvedImage | undefined> {
  const parsed = parseRef(ref, "resolving image");
  const named = (await readImages(root)).images[normalizeImageRef(ref)];
  if (named === undefined) return undefined;
  return resolveStored(content, repositoryName(parsed), { digest: named.target.digest, size: named.target.size }, platform);
}

/**
 * Keeps what a registry resolution read (index, manifest, config) for the next pinned build;
 * content GC keeps them while `snapshot` (the image's top layer) exists.
 */
export async function keepResolved(content: ContentStore, index: ContentIndex, image: ResolvedImage, snapshot: string): Promise<void> {
  const kept: Digest[] = [];
  if (image.indexBytes !== undefined) kept.push((await putBlob(content, "application/octet-stream", image.indexBytes)).digest);
  kept.push((await putBlob(content, image.manifestDescriptor.mediaType, image.manifestBytes)).digest);
  kept.push((await putBlob(content, image.configDescriptor.mediaType, image.configBytes)).digest);
  index.savePulled(kept, snapshot);
}
