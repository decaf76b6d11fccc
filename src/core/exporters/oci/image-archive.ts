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
import { familiarName, formatImageRef } from "../../reference/docker-ref.ts";
import { goDescriptor, outputBlobs, type BuiltOutput } from "../image/build-image.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import { hexOf } from "../../digest.ts";
import { ArchiveWriter } from "./archive-writer.ts";

export type ArchiveFormat = "oci" | "docker";

export interface ArchiveParams {
  readonly format: ArchiveFormat;
  /** The image's names: each an index.json entry and a RepoTag, as containerd's archive exporter writes them. */
  readonly names: readonly ImageRef[];
  /** Entry modification time, seconds since the epoch. */
  readonly mtime: number;
  readonly signal: AbortSignal;
}

const blobName = (digest: Digest): string => `blobs/sha256/${hexOf(digest)}`;


/** index.json as containerd's archive exporter writes it for BuildKit: no media type, one entry for the top descriptor per name (or one unnamed). */
function indexJson(built: BuiltOutput, names: readonly ImageRef[]): string {
  const entry = (named: Record<string, string>) => goDescriptor({ ...built.top, annotations: { ...built.top.annotations, ...named } });
  const manifests = names.length === 0 ? [entry({})] : names.map((n) => entry({ "io.containerd.image.name": formatImageRef(n), "org.opencontainers.image.ref.name": n.tag ?? "latest" }));
  return goJSON({ schemaVersion: 2, manifests });
}

function dockerManifestJson(built: BuiltOutput, names: readonly ImageRef[]): string {
  const image = built.images[0]!;
  const entry = {
    Config: blobName(image.config.digest),
    RepoTags: names.map(familiarName),
    Layers: image.layers.map((l) => blobName(l.digest)),
  };
  return JSON.stringify([entry]);
}

export async function writeImageArchive(sink: ByteSink, store: ContentStore, built: BuiltOutput, p: ArchiveParams): Promise<void> {
  const tar = new ArchiveWriter(sink, p.mtime);
  await tar.file("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await tar.dir("blobs");
  await tar.dir("blobs/sha256");
  const seen = new Set<Digest>();
  for (const desc of outputBlobs(built)) {
    p.signal.throwIfAborted();
    if (seen.has(desc.digest)) continue;
    seen.add(desc.digest);
    await tar.stream(blobName(desc.digest), desc.size, store.read(desc.digest));
  }
  await tar.file("index.json", indexJson(built, p.names));
  if (p.format === "docker") await tar.file("manifest.json", dockerManifestJson(built, p.names));
  await tar.end();
}
