/**
 * createRegistryClient: an OCI distribution client over fetch. Pulls resolve refs to a
 * platform's image manifest and stream verified blobs (mirrors first); pushes check, mount or
 * upload blobs and put manifests. Auth (anonymous, Basic, Bearer tokens) uses Docker's
 * config.json; hosts' TLS, plain HTTP and mirrors come from buildkitd.toml's registry section.
 */
import type { Digest } from "../digest.ts";
import type { Platform } from "../llb/platform.ts";
import { createAuthorizer } from "./auth.ts";
import { createBlobLocations } from "./blob-locations.ts";
import type { RegistryConfig } from "./config.ts";
import type { RegistryContext } from "./context.ts";
import { loadDockerConfig } from "./docker-config.ts";
import type { DebugLog } from "./docker-config.ts";
import { createHostResolver } from "./hosts.ts";
import { fetchBlob, fetchRawManifest, resolveImage } from "./pull.ts";
import type { BlobDescriptor, ResolvedImage } from "./pull.ts";
import { blobExists, pushBlob, pushManifest } from "./push.ts";
import type { BlobData, PushBlobOptions, PushBlobResult } from "./push.ts";
import type { RepositoryLike } from "./repository.ts";
import { DEFAULT_RETRY_POLICY } from "./retry.ts";
import type { RetryPolicy, Sleep } from "./retry.ts";
import { createTransport } from "./transport.ts";

export interface RegistryClientOptions {
  /** Per-host settings from buildkitd.toml (`[registry."HOST"]`). */
  readonly config?: RegistryConfig;
  /** Where config.json is; default $DOCKER_CONFIG, else ~/.docker. */
  readonly dockerConfigDir?: string;
  readonly userAgent?: string;
  readonly fetch?: typeof fetch;
  /** Retries of connection errors, 429 and 5xx; default 3 tries from 200 ms. */
  readonly retry?: RetryPolicy;
  /** For tests: how to wait between tries. */
  readonly sleep?: Sleep;
  /** Notes on choices made (mirror fallbacks, unsupported credential helpers). */
  readonly debug?: DebugLog;
}

export interface RegistryClient {
  /** The image manifest of ref for platform (picked from an index when ref names one), and its config. */
  resolve(ref: string, platform: Platform, signal: AbortSignal): Promise<ResolvedImage>;
  /** A blob's bytes, streamed; the stream errors if they do not match desc's digest and size. */
  fetchBlob(repo: RepositoryLike, desc: BlobDescriptor, signal: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /** A manifest or index by tag or digest, as stored (no platform picked), digest verified. */
  fetchManifest(repo: RepositoryLike, reference: string, signal: AbortSignal): Promise<{ bytes: Uint8Array; digest: Digest }>;
  blobExists(repo: RepositoryLike, digest: Digest, signal?: AbortSignal): Promise<boolean>;
  pushBlob(repo: RepositoryLike, desc: { digest: Digest; size: number }, data: BlobData, opts?: PushBlobOptions): Promise<PushBlobResult>;
  /** PUTs manifest bytes under a tag or digest; returns their digest. */
  pushManifest(repo: RepositoryLike, reference: string, mediaType: string, bytes: Uint8Array, signal?: AbortSignal): Promise<Digest>;
  /**
   * This client (credentials, connections) with `domain` reached as an exporter's
   * `registry.insecure=true` asks: TLS without verifying the certificate, else plain HTTP.
   */
  insecure(domain: string): RegistryClient;
}

export const DEFAULT_USER_AGENT = "buildkit-ts/0.1";

export function createRegistryClient(opts: RegistryClientOptions = {}): RegistryClient {
  const fetchFn = opts.fetch ?? fetch;
  const userAgent = opts.userAgent ?? DEFAULT_USER_AGENT;
  const authorizer = createAuthorizer({
    credentials: () => loadDockerConfig(opts.dockerConfigDir, opts.debug),
    fetch: fetchFn,
    userAgent,
    debug: opts.debug,
  });
  const transport = createTransport({
    fetch: fetchFn,
    authorizer,
    userAgent,
    retry: opts.retry ?? DEFAULT_RETRY_POLICY,
    sleep: opts.sleep,
    debug: opts.debug,
  });
  const locations = createBlobLocations();
  const client = (config: RegistryConfig | undefined): RegistryClient =>
    clientOf({ hosts: createHostResolver(config), transport, locations, debug: opts.debug }, (domain) =>
      // BuildKit's push sets Insecure and PlainHTTP for the host: HTTPS unverified, then HTTP.
      client({ ...config, [domain]: { ...config?.[domain], insecure: true, http: undefined } }),
    );
  return client(opts.config);
}

function clientOf(ctx: RegistryContext, insecure: (domain: string) => RegistryClient): RegistryClient {
  return {
    resolve: (ref, platform, signal) => resolveImage(ctx, ref, platform, signal),
    fetchBlob: (repo, desc, signal) => fetchBlob(ctx, repo, desc, signal),
    fetchManifest: (repo, reference, signal) => fetchRawManifest(ctx, repo, reference, signal),
    blobExists: (repo, digest, signal) => blobExists(ctx, repo, digest, signal),
    pushBlob: (repo, desc, data, o) => pushBlob(ctx, repo, desc, data, o),
    pushManifest: (repo, reference, mediaType, bytes, signal) => pushManifest(ctx, repo, reference, mediaType, bytes, signal),
    insecure,
  };
}
