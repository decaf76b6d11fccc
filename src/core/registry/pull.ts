/**
 * The pull side: resolve a ref to the image manifest for a platform (through an index when
 * there is one) and its config, and stream blobs with their digests verified. Each mirror is
 * tried before the host itself; a digest-pinned ref must hash to its digest.
 */
import { isDigest, sha256 } from "../digest.ts";
import type { Digest } from "../digest.ts";
import { BuildkitError, withContext } from "../errors.ts";
import type { Platform } from "../llb/platform.ts";
import { formatImageRef } from "../reference/docker-ref.ts";
import { endpointUrl } from "./hosts.ts";
import type { RegistryEndpoint } from "./hosts.ts";
import { MANIFEST_ACCEPT, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseImageConfig, parseManifest } from "./manifest.ts";
import type { Descriptor, ImageConfig, ImageManifest, ParsedManifest } from "./manifest.ts";
import { selectManifest, type ManifestDoc, type SelectIO } from "./select.ts";
import type { RegistryContext } from "./context.ts";
import { parseRef, pullScope, repositoryName, toRepository } from "./repository.ts";
import type { Repository, RepositoryLike } from "./repository.ts";
import { readAll, verifyingStream } from "./verify-stream.ts";

export interface ResolvedImage {
  /** name@digest, e.g. "docker.io/library/busybox@sha256:…" (the platform's image manifest). */
  readonly ref: string;
  /** The image manifest's digest. */
  readonly digest: Digest;
  /** The index (manifest list) the manifest was picked from, when the ref named one. */
  readonly indexDigest?: Digest | undefined;
  /** That index's bytes. */
  readonly indexBytes?: Uint8Array | undefined;
  readonly manifest: ImageManifest;
  readonly manifestDescriptor: Descriptor;
  readonly manifestBytes: Uint8Array;
  readonly config: ImageConfig;
  readonly configDescriptor: Descriptor;
  readonly configBytes: Uint8Array;
}

export interface BlobDescriptor {
  readonly digest: Digest;
  readonly size?: number;
  readonly mediaType?: string;
}

export interface FetchedManifest {
  readonly bytes: Uint8Array;
  readonly digest: Digest;
  readonly parsed: ParsedManifest;
}

/** Tries each endpoint in turn; the first success wins, else the most telling error. */
async function firstEndpoint<T>(ctx: RegistryContext, repo: Repository, fn: (e: RegistryEndpoint) => Promise<T>): Promise<T> {
  const errors: BuildkitError[] = [];
  for (const e of await ctx.hosts.endpoints(repo.domain, "pull")) {
    try {
      return await fn(e);
    } catch (err) {
      const be = err instanceof BuildkitError ? err : withContext(`registry ${e.host}`, err);
      if (be.code === "Canceled") throw be;
      if (e.mirror) ctx.debug?.(`mirror ${e.host} for ${repositoryName(repo)}: ${be.message}`);
      errors.push(be);
    }
  }
  const telling = errors.find((e) => e.code !== "NotFound") ?? errors[errors.length - 1];
  throw telling ?? new BuildkitError("NotFound", "no registry endpoint");
}

/** GETs a manifest by tag or digest from one endpoint, verifying its digest when one is expected. */
export async function fetchManifest(ctx: RegistryContext, e: RegistryEndpoint, repo: Repository, reference: string, signal: AbortSignal, expected?: Descriptor | { digest: Digest }): Promise<FetchedManifest> {
  const req = { endpoint: e, method: "GET" as const, url: endpointUrl(e, repo.path, `manifests/${reference}`), scopes: [pullScope(repo)], headers: { Accept: MANIFEST_ACCEPT }, signal };
  const res = await ctx.transport.send(req);
  if (!res.ok) throw await ctx.transport.statusError(req, res);
  if (!res.body) throw new BuildkitError("Unavailable", `manifest ${reference}: empty answer`);
  const bytes = await readAll(res.body, MAX_MANIFEST_BYTES, `manifest ${reference}`);
  const digest = sha256(bytes);
  const header = res.headers.get("docker-content-digest");
  const want = expected?.digest ?? (header !== null && isDigest(header) ? header : undefined);
  if (want !== undefined && want !== digest) throw new BuildkitError("InvalidArgument", `manifest ${want}: digest mismatch (got ${digest})`);
  if (expected && "size" in expected && expected.size !== bytes.byteLength) {
    throw new BuildkitError("InvalidArgument", `manifest ${digest}: size mismatch (expected ${expected.size} bytes, got ${bytes.byteLength})`);
  }
  const parsed = parseManifest(bytes, `manifest ${digest}`, res.headers.get("content-type") ?? undefined);
  return { bytes, digest, parsed };
}

/** GETs a manifest or index by tag or digest, as stored (no platform is picked). */
export async function fetchRawManifest(ctx: RegistryContext, repoLike: RepositoryLike, reference: string, signal: AbortSignal): Promise<{ bytes: Uint8Array; digest: Digest }> {
  const repo = toRepository(repoLike);
  try {
    const m = await firstEndpoint(ctx, repo, (e) => fetchManifest(ctx, e, repo, reference, signal));
    return { bytes: m.bytes, digest: m.digest };
  } catch (err) {
    throw withContext(`fetching manifest ${repositoryName(repo)}:${reference}`, err);
  }
}

/** GETs a blob from one endpoint; the stream verifies digest and size. */
async function blobAt(ctx: RegistryContext, e: RegistryEndpoint, repo: Repository, desc: BlobDescriptor, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  const req = { endpoint: e, method: "GET" as const, url: endpointUrl(e, repo.path, `blobs/${desc.digest}`), scopes: [pullScope(repo)], headers: { "Accept-Encoding": "identity" }, signal };
  const res = await ctx.transport.send(req);
  if (!res.ok) throw await ctx.transport.statusError(req, res);
  if (!res.body) throw new BuildkitError("Unavailable", `blob ${desc.digest}: empty answer`);
  if (!e.mirror) ctx.locations.add(desc.digest, repo);
  return verifyingStream(res.body, desc);
}

/** Streams a blob, digest and size verified while streaming. */
export async function fetchBlob(ctx: RegistryContext, repoLike: RepositoryLike, desc: BlobDescriptor, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  const repo = toRepository(repoLike);
  if (!isDigest(desc.digest)) throw new BuildkitError("InvalidArgument", `fetching blob ${desc.digest}: unsupported digest`);
  try {
    return await firstEndpoint(ctx, repo, (e) => blobAt(ctx, e, repo, desc, signal));
  } catch (err) {
    throw withContext(`fetching blob ${desc.digest} from ${repositoryName(repo)}`, err);
  }
}

async function readConfig(ctx: RegistryContext, e: RegistryEndpoint, repo: Repository, desc: Descriptor, signal: AbortSignal): Promise<{ config: ImageConfig; bytes: Uint8Array }> {
  if (desc.size > MAX_CONFIG_BYTES) throw new BuildkitError("InvalidArgument", `config ${desc.digest}: larger than ${MAX_CONFIG_BYTES} bytes`);
  const bytes = await readAll(await blobAt(ctx, e, repo, desc, signal), MAX_CONFIG_BYTES, `config ${desc.digest}`);
  return { config: parseImageConfig(bytes, `config ${desc.digest}`), bytes };
}

async function resolveAt(ctx: RegistryContext, e: RegistryEndpoint, repo: Repository, reference: { tag?: string; digest?: string }, platform: Platform, signal: AbortSignal): Promise<ResolvedImage> {
  const pinned = reference.digest !== undefined && isDigest(reference.digest) ? reference.digest : undefined;
  if (reference.digest !== undefined && !pinned) throw new BuildkitError("InvalidArgument", `unsupported digest ${reference.digest}`);
  const top = await fetchManifest(ctx, e, repo, pinned ?? reference.tag ?? "latest", signal, pinned ? { digest: pinned } : undefined);
  const fetchChild = (d: Descriptor): Promise<FetchedManifest> => fetchManifest(ctx, e, repo, d.digest, signal, d);
  const loadConfig = (d: Descriptor): Promise<{ config: ImageConfig; bytes: Uint8Array }> => readConfig(ctx, e, repo, d, signal);
  return resolveUnder(repositoryName(repo), top, platform, { fetchChild, loadConfig });
}

/**
 * The image for platform under `top` (an index is resolved to the platform's manifest), with
 * its config, wherever the documents come from (a registry, the content store).
 */
export async function resolveUnder(name: string, top: ManifestDoc, platform: Platform, io: SelectIO): Promise<ResolvedImage> {
  const chosen = await selectManifest(top, platform, io);
  const { manifest, bytes, digest, mediaType } = chosen;
  const config = chosen.config ?? (await io.loadConfig(manifest.config));
  return {
    ref: `${name}@${digest}`,
    digest,
    indexDigest: top.parsed.kind === "index" ? top.digest : undefined,
    indexBytes: top.parsed.kind === "index" ? top.bytes : undefined,
    manifest,
    manifestDescriptor: { mediaType, digest, size: bytes.byteLength },
    manifestBytes: bytes,
    config: config.config,
    configDescriptor: manifest.config,
    configBytes: config.bytes,
  };
}

/** Resolves ref to its image manifest for platform and reads its config. */
export async function resolveImage(ctx: RegistryContext, ref: string, platform: Platform, signal: AbortSignal): Promise<ResolvedImage> {
  const parsed = parseRef(ref, "resolving image");
  const repo = { domain: parsed.domain, path: parsed.path };
  try {
    return await firstEndpoint(ctx, repo, (e) => resolveAt(ctx, e, repo, parsed, platform, signal));
  } catch (err) {
    throw withContext(`resolving image ${formatImageRef(parsed)}`, err);
  }
}
