/**
 * An image as one tar: an OCI image layout (oci-layout, index.json, blobs/sha256/…), which
 * `skopeo … oci-archive:` and containerd's import read, plus for the docker format the
 * `docker save` manifest.json (Config, RepoTags, Layers pointing into blobs/sha256, as Docker
 * 25+ writes it), which `docker load` and `skopeo … docker-archive:` read.
 */
import type { Digest } from "../../digest.ts";
import type { ByteSink } from "../../image/byte-sink.ts";
import { goJSON } from "../../go-json.ts";
import type { ImageRef } from "../../reference/docker-ref.ts";
import { formatImageRef } from "../../reference/docker-ref.ts";
import { goDescriptor, type BuiltImage } from "../image/build-image.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import { hexOf } from "../../digest.ts";
import { ArchiveWriter } from "./archive-writer.ts";

export type ArchiveFormat = "oci" | "docker";

export interface ArchiveParams {
  readonly format: ArchiveFormat;
  readonly name?: ImageRef;
  /** Entry modification time, seconds since the epoch. */
  readonly mtime: number;
  readonly signal: AbortSignal;
}

const blobName = (digest: Digest): string => `blobs/sha256/${hexOf(digest)}`;

/** `docker.io/library/busybox:latest` → `busybox:latest`, as `docker save` names repos. */
export function familiarName(ref: ImageRef): string {
  const full = formatImageRef(ref);
  if (ref.domain !== "docker.io") return full;
  return full.slice("docker.io/".length).replace(/^library\/(?=[^/]+$)/, "");
}

/** index.json as containerd's archive exporter writes it for BuildKit: no media type, the name's annotations on the manifest's. */
function indexJson(image: BuiltImage, name: ImageRef | undefined): string {
  const named: Record<string, string> = name ? { "io.containerd.image.name": formatImageRef(name), "org.opencontainers.image.ref.name": name.tag ?? "latest" } : {};
  const manifest = goDescriptor({ ...image.manifest, annotations: { ...image.manifest.annotations, ...named } });
  return goJSON({ schemaVersion: 2, manifests: [manifest] });
}

function dockerManifestJson(image: BuiltImage, name: ImageRef | undefined): string {
  const entry = {
    Config: blobName(image.config.digest),
    RepoTags: name ? [familiarName(name)] : [],
    Layers: image.layers.map((l) => blobName(l.digest)),
  };
  return JSON.stringify([entry]);
}

export async function writeImageArchive(sink: ByteSink, store: ContentStore, image: BuiltImage, p: ArchiveParams): Promise<void> {
  const tar = new ArchiveWriter(sink, p.mtime);
  await tar.file("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await tar.dir("blobs");
  await tar.dir("blobs/sha256");
  const seen = new Set<Digest>();
  for (const desc of [...image.layers, image.config, image.manifest]) {
    p.signal.throwIfAborted();
    if (seen.has(desc.digest)) continue;
    seen.add(desc.digest);
    await tar.stream(blobName(desc.digest), desc.size, store.read(desc.digest));
  }
  await tar.file("index.json", indexJson(image, p.name));
  if (p.format === "docker") await tar.file("manifest.json", dockerManifestJson(image, p.name));
  await tar.end();
}
