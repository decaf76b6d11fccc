/**
 * Importing the inline cache of an image in a registry (`--import-cache type=registry,ref=IMAGE`
 * where IMAGE is an image, not a cache): as BuildKit's importInlineCache, every image manifest
 * under the ref (each platform of an index) whose config carries `moby.buildkit.cache.v0` gives
 * one cache whose layer blobs are the image's own layers. An image without one imports nothing
 * (a line on the import's progress says why, where BuildKit is silent).
 */
import { isDigest } from "../../digest.ts";
import type { Digest } from "../../digest.ts";
import { BuildkitError } from "../../errors.ts";
import type { RegistryClient } from "../../registry/index.ts";
import type { RepositoryLike } from "../../registry/index.ts";
import { readAll } from "../../registry/verify-stream.ts";
import { parseCacheManifest } from "./format.ts";
import { parseInlineCache } from "./inline-format.ts";
import type { ProgressTask as ProgressTask } from "../../progress/task.ts";
import type { BlobSource, LoadedCache } from "./source.ts";

/** An image config is small; a larger one is refused, not read into memory. */
const MAX_CONFIG = 32 << 20;
/** Index → manifest, as BuildKit's allDistributionManifests walks (nested indexes are rare). */
const MAX_DEPTH = 3;

export interface InlineReadContext {
  readonly client: RegistryClient;
  readonly repo: RepositoryLike;
  /** The ref, for messages and as the caches' name. */
  readonly name: string;
  readonly source: BlobSource;
  readonly signal: AbortSignal;
  readonly task: ProgressTask;
}

/** The inline caches of the manifest or index `top` (already fetched by tag). */
export async function readInlineCaches(top: Uint8Array, ctx: InlineReadContext): Promise<LoadedCache[]> {
  const caches: LoadedCache[] = [];
  await walk(top, ctx, caches, new Set(), 0);
  if (caches.length === 0) ctx.task.info(`${ctx.name}: no inline cache in the image; nothing imported`);
  return caches;
}

async function walk(bytes: Uint8Array, ctx: InlineReadContext, out: LoadedCache[], seen: Set<Digest>, depth: number): Promise<void> {
  const children = indexChildren(bytes, ctx.name);
  if (children === undefined) {
    await readImage(bytes, ctx, out);
    return;
  }
  if (depth >= MAX_DEPTH) throw new BuildkitError("InvalidArgument", `reading inline cache of ${ctx.name}: indexes nested deeper than ${MAX_DEPTH}`);
  for (const digest of children) {
    if (seen.has(digest)) continue;
    seen.add(digest);
    const child = await ctx.client.fetchManifest(ctx.repo, digest, ctx.signal);
    if (child.digest !== digest) throw new BuildkitError("InvalidArgument", `reading inline cache of ${ctx.name}: manifest ${digest} came back as ${child.digest}`);
    await walk(child.bytes, ctx, out, seen, depth + 1);
  }
}

/** The manifests an index lists; undefined when bytes are not an index. */
function indexChildren(bytes: Uint8Array, name: string): Digest[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new BuildkitError("InvalidArgument", `reading inline cache of ${name}: manifest is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const manifests = typeof json === "object" && json !== null ? (json as { manifests?: unknown }).manifests : undefined;
  if (!Array.isArray(manifests)) return undefined;
  return manifests.map((m: unknown) => {
    const digest = typeof m === "object" && m !== null ? (m as { digest?: unknown }).digest : undefined;
    if (typeof digest !== "string" || !isDigest(digest)) throw new BuildkitError("InvalidArgument", `reading inline cache of ${name}: index has an invalid descriptor`);
    return digest;
  });
}

async function readImage(bytes: Uint8Array, ctx: InlineReadContext, out: LoadedCache[]): Promise<void> {
  const manifest = parseCacheManifest(bytes, ctx.name);
  if (manifest.layers.length === 0) return;
  if (manifest.config.size > MAX_CONFIG) throw new BuildkitError("InvalidArgument", `reading inline cache of ${ctx.name}: image config larger than ${MAX_CONFIG} bytes`);
  const config = await readAll(await ctx.client.fetchBlob(ctx.repo, manifest.config, ctx.signal), MAX_CONFIG, `image config ${manifest.config.digest}`);
  const read = parseInlineCache(manifest.layers, config, ctx.name);
  if ("none" in read) {
    ctx.task.info(`${ctx.name}: image config ${manifest.config.digest}: ${read.none}`);
    return;
  }
  ctx.task.info(`${ctx.name}: inline cache of ${read.cache.config.records.length} records over the image's ${manifest.layers.length} layers`);
  out.push({ name: ctx.name, buildkit: read.cache, source: ctx.source });
}
