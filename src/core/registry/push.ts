/**
 * The push side of the distribution spec: HEAD to skip blobs already there, a cross-repository
 * mount (`POST …/blobs/uploads/?mount=DIGEST&from=REPO`) when the blob is known in another
 * repository of the same registry, else an upload (POST, then one streamed PUT or chunked
 * PATCHes and a closing PUT), and manifests PUT by tag or digest.
 */
import { isDigest, sha256 } from "../digest.ts";
import type { Digest } from "../digest.ts";
import { BuildkitError, withContext } from "../errors.ts";
import { endpointUrl } from "./hosts.ts";
import type { RegistryEndpoint } from "./hosts.ts";
import type { RegistryContext } from "./context.ts";
import { pullScope, pushScope, repositoryName, toRepository } from "./repository.ts";
import type { Repository, RepositoryLike } from "./repository.ts";
import type { RegistryRequest } from "./transport.ts";
import { uploadChunked, uploadMonolithic } from "./upload.ts";
import type { UploadSession } from "./upload.ts";

export interface PushBlobOptions {
  readonly signal?: AbortSignal;
  /** Upload in PATCH requests of this many bytes; unset: one streamed PUT. */
  readonly chunkSize?: number;
  /** Repositories (same registry) to try mounting from, besides those this client has seen. */
  readonly mountFrom?: readonly RepositoryLike[];
}

export interface PushBlobResult {
  readonly digest: Digest;
  readonly size: number;
  /** exists: the registry had it; mounted: cross-repository mount; uploaded: bytes sent. */
  readonly status: "exists" | "mounted" | "uploaded";
}

export type BlobData = ReadableStream<Uint8Array> | Uint8Array;

const NEVER = new AbortController().signal;
const MAX_MOUNT_TRIES = 3;

async function pushEndpoint(ctx: RegistryContext, repo: Repository): Promise<RegistryEndpoint> {
  const [e] = await ctx.hosts.endpoints(repo.domain, "push");
  if (!e) throw new BuildkitError("Internal", `no endpoint for ${repo.domain}`);
  return e;
}

async function expectStatus(ctx: RegistryContext, req: RegistryRequest, statuses: readonly number[]): Promise<Response> {
  const res = await ctx.transport.send(req);
  if (!statuses.includes(res.status)) throw await ctx.transport.statusError(req, res);
  return res;
}

export async function blobExists(ctx: RegistryContext, repoLike: RepositoryLike, digest: Digest, signal: AbortSignal = NEVER): Promise<boolean> {
  const repo = toRepository(repoLike);
  try {
    const e = await pushEndpoint(ctx, repo);
    const req = { endpoint: e, method: "HEAD" as const, url: endpointUrl(e, repo.path, `blobs/${digest}`), scopes: [pullScope(repo)], signal };
    const res = await expectStatus(ctx, req, [200, 404]);
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 200) ctx.locations.add(digest, repo);
    return res.status === 200;
  } catch (err) {
    throw withContext(`checking blob ${digest} in ${repositoryName(repo)}`, err);
  }
}

function mountCandidates(ctx: RegistryContext, repo: Repository, digest: Digest, extra: readonly RepositoryLike[]): Repository[] {
  const given = extra.map((r) => toRepository(r)).filter((r) => r.domain === repo.domain && r.path !== repo.path);
  const seen = new Set<string>();
  return [...given, ...ctx.locations.sources(digest, repo)].filter((r) => !seen.has(r.path) && seen.add(r.path)).slice(0, MAX_MOUNT_TRIES);
}

/** Starts an upload, mounting from another repository when possible (then no session is left). */
async function startUpload(ctx: RegistryContext, e: RegistryEndpoint, repo: Repository, digest: Digest, from: readonly Repository[], signal: AbortSignal): Promise<UploadSession | "mounted"> {
  const base = endpointUrl(e, repo.path, "blobs/uploads/");
  for (const source of from) {
    const url = `${base}?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(source.path)}`;
    const req = { endpoint: e, method: "POST" as const, url, scopes: [pushScope(repo), pullScope(source)], signal };
    const res = await ctx.transport.send(req);
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 201) return "mounted";
    const location = res.headers.get("location");
    if (res.status === 202 && location) return { endpoint: e, url: new URL(location, url).toString(), scopes: [pushScope(repo)] };
    ctx.debug?.(`mounting ${digest} from ${source.path} into ${repo.path}: ${res.status}`);
  }
  const req = { endpoint: e, method: "POST" as const, url: base, scopes: [pushScope(repo)], headers: { "Content-Length": "0" }, signal };
  const res = await expectStatus(ctx, req, [202]);
  await res.body?.cancel().catch(() => undefined);
  const location = res.headers.get("location");
  if (!location) throw new BuildkitError("Unavailable", "starting upload: the registry sent no Location");
  return { endpoint: e, url: new URL(location, base).toString(), scopes: [pushScope(repo)] };
}

async function cancelData(data: BlobData): Promise<void> {
  if (data instanceof ReadableStream) await data.cancel().catch(() => undefined);
}

/** Pushes a blob unless the registry has it; mounts it from a sibling repository when it can. */
export async function pushBlob(ctx: RegistryContext, repoLike: RepositoryLike, desc: { digest: Digest; size: number }, data: BlobData, opts: PushBlobOptions = {}): Promise<PushBlobResult> {
  const repo = toRepository(repoLike);
  const signal = opts.signal ?? NEVER;
  const done = (status: PushBlobResult["status"]): PushBlobResult => {
    ctx.locations.add(desc.digest, repo);
    return { digest: desc.digest, size: desc.size, status };
  };
  try {
    if (await blobExists(ctx, repo, desc.digest, signal)) {
      await cancelData(data);
      return done("exists");
    }
    const e = await pushEndpoint(ctx, repo);
    const session = await startUpload(ctx, e, repo, desc.digest, mountCandidates(ctx, repo, desc.digest, opts.mountFrom ?? []), signal);
    if (session === "mounted") {
      await cancelData(data);
      return done("mounted");
    }
    const io = { transport: ctx.transport, signal };
    if (opts.chunkSize !== undefined) await uploadChunked(io, session, desc, data, opts.chunkSize);
    else await uploadMonolithic(io, session, desc, data);
    return done("uploaded");
  } catch (err) {
    await cancelData(data);
    throw withContext(`pushing blob ${desc.digest} to ${repositoryName(repo)}`, err);
  }
}

/** PUTs a manifest (or index) under a tag or its digest; returns its digest. */
export async function pushManifest(ctx: RegistryContext, repoLike: RepositoryLike, reference: string, mediaType: string, bytes: Uint8Array, signal: AbortSignal = NEVER): Promise<Digest> {
  const repo = toRepository(repoLike);
  const digest = sha256(bytes);
  const what = `pushing manifest ${repositoryName(repo)}${isDigest(reference) ? "@" : ":"}${reference}`;
  try {
    if (isDigest(reference) && reference !== digest) throw new BuildkitError("InvalidArgument", `digest mismatch (content is ${digest})`);
    const e = await pushEndpoint(ctx, repo);
    const url = endpointUrl(e, repo.path, `manifests/${reference}`);
    const req = { endpoint: e, method: "PUT" as const, url, scopes: [pushScope(repo)], headers: { "Content-Type": mediaType }, body: bytes, signal };
    const res = await expectStatus(ctx, req, [200, 201]);
    await res.body?.cancel().catch(() => undefined);
    const got = res.headers.get("docker-content-digest");
    if (got && got !== digest) throw new BuildkitError("Unavailable", `registry stored it as ${got}, expected ${digest}`);
    return digest;
  } catch (err) {
    throw withContext(what, err);
  }
}
