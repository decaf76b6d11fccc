/**
 * Cache export after a solve, in BuildKit's format (buildkit-format.ts). Every vertex of the
 * solve gets a record per output, keyed as BuildKit keys it (buildkit-cache-map.ts) and linked
 * to its inputs' records with BuildKit's selectors; results are attached to:
 *
 * - mode=min (the default): results in the final result's parent chain, i.e. whose layers the
 *   final result is made of (BuildKit exports the final result's layers and the keys into them);
 * - mode=max: every vertex's results.
 *
 * Each result is its snapshot chain as image layers (image-layers.ts: diffed and compressed
 * once, then reused from the content index), base first; each chain is listed once.
 */
import type { ContentIndex } from "../../content/index-db.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import type { Digest } from "../../digest.ts";
import { withContext } from "../../errors.ts";
import { resultLayers } from "../../image/image-layers.ts";
import type { LayerChoice } from "../../image/image-layers.ts";
import { layerMediaType } from "../../image/compression.ts";
import type { Descriptor } from "../../image/oci-types.ts";
import type { LoadedDefinition } from "../../llb/definition.ts";
import type { ProgressWriter } from "../../progress/events.ts";
import type { RegistryClient } from "../../registry/index.ts";
import type { VertexSummary } from "../../solver/job.ts";
import { withView } from "../../worker/snapshots.ts";
import type { Worker } from "../../worker/worker.ts";
import type { CacheStore } from "../store.ts";
import { rootKey, vertexCacheMap } from "./buildkit-cache-map.ts";
import type { CacheMapDep } from "./buildkit-cache-map.ts";
import { CONTENT_OUTPUT } from "./buildkit-match.ts";
import { inputContentDigest } from "./content-keys.ts";
import { encodeBuildkitCache } from "./buildkit-format.ts";
import type { BkConfig, BkInput, BkLayer, BkRecord } from "./buildkit-format.ts";
import type { CacheLayer } from "./format.ts";
import { writeLocalCache } from "./local.ts";
import { writeStoreCache } from "./store-cache.ts";
import { withTask, type ProgressTask } from "../../progress/task.ts";
import { pushRegistryCache } from "./registry.ts";
import { cacheLocation } from "./spec.ts";
import type { CacheMode, StoredCacheExportSpec } from "./spec.ts";
import { encodeInlineRecords, inlineRecords } from "./inline-format.ts";
import type { ImageLayerRef } from "./inline-format.ts";

export interface CacheExportContext {
  readonly worker: Worker;
  /** The local cache index (not the import-aware view). */
  readonly store: CacheStore;
  readonly content: ContentStore;
  readonly index: ContentIndex;
  readonly registry: () => Promise<RegistryClient>;
  /** The solved definition (several platforms' merged: their ops by digest). */
  readonly def: Pick<LoadedDefinition, "ops">;
  /** Its vertices, each after its inputs. */
  readonly vertices: readonly VertexSummary[];
  /** The final results' snapshots: one, one per platform, or none for an empty result. */
  readonly results: readonly string[];
  readonly progress: ProgressWriter;
  readonly signal: AbortSignal;
}

interface Candidate {
  readonly vertex: Digest;
  readonly output: number;
  readonly snapshot: string;
  readonly description: string;
  readonly kind: string;
}

/**
 * The exporter response key carrying the descriptor of a cache put into a store (BuildKit's
 * remotecache.ExporterResponseManifestDesc): the store's owner tags it (buildctl updates the
 * local cache directory's index.json with it).
 */
export const CACHE_MANIFEST_RESPONSE_KEY = "cache.manifest";

/** Exports the cache to each spec in turn; returns the manifest digest per location. */
export async function exportCaches(specs: readonly StoredCacheExportSpec[], ctx: CacheExportContext): Promise<Record<string, string>> {
  const response: Record<string, string> = {};
  for (const spec of specs) {
    const where = cacheLocation(spec);
    const desc = await withTask(ctx.progress, `exporting cache to ${where}`, (task) => exportOne(spec, ctx, task)).catch((err: unknown) => {
      throw withContext(`exporting cache to ${where}`, err);
    });
    response[`cache ${where}`] = desc.digest;
    // Go's JSON of an OCI descriptor: mediaType, digest, size.
    if (spec.type === "store") response[CACHE_MANIFEST_RESPONSE_KEY] = JSON.stringify({ mediaType: desc.mediaType, digest: desc.digest, size: desc.size });
  }
  return response;
}

async function exportOne(spec: StoredCacheExportSpec, ctx: CacheExportContext, task: ProgressTask): Promise<Descriptor> {
  const { config, blobs } = await collectCache(ctx, spec.mode, { compression: spec.compression, level: spec.level, force: spec.force });
  task.info(`${config.records.length} records, ${blobs.size} layers (mode=${spec.mode})`);
  const encoded = encodeBuildkitCache(config, blobs, new Date().toISOString(), { oci: spec.oci });
  const layers = [...blobs.values()].map((l) => l.blob);
  if (spec.type === "local") await writeLocalCache(spec.dest, spec.tag, encoded, layers, ctx.content);
  else if (spec.type === "store") await writeStoreCache(spec.store, encoded, layers, ctx.content, ctx.signal);
  else await pushRegistryCache(spec.ref, encoded, layers, { registry: ctx.registry, content: ctx.content, index: ctx.index, signal: ctx.signal }, task);
  return encoded.index.descriptor;
}

/**
 * BuildKit's inline cache for an image of the solve's result made of `image`'s layers: the
 * mode=min records, with results as indexes into those layers (inline-format.ts), as JSON
 * bytes; undefined when no result is made of them (BuildKit then writes no inline cache).
 */
export async function inlineCache(ctx: CacheExportContext, image: readonly ImageLayerRef[], layers: LayerChoice): Promise<Uint8Array | undefined> {
  return await withTask(ctx.progress, "preparing layers for inline cache", async (task) => {
    const { config, blobs } = await collectCache(ctx, "min", layers);
    const records = inlineRecords(config, blobs, image);
    if (records === undefined) {
      task.warn("no cache result is made of the image's layers; no inline cache");
      return undefined;
    }
    const withResults = records.filter((r) => r.results.length + r.chains.length > 0).length;
    task.info(`${records.length} records, ${withResults} with results in the image's ${image.length} layers`);
    return encodeInlineRecords(records, new Date().toISOString());
  });
}

/** BuildKit's cache config for mode: every vertex's records, results for the kept candidates. */
export async function collectCache(ctx: CacheExportContext, mode: CacheMode, layers: LayerChoice): Promise<{ config: BkConfig; blobs: Map<Digest, CacheLayer> }> {
  let candidates = await existing(ctx, candidatesOf(ctx));
  if (mode === "min") {
    const chain = new Set((await Promise.all(ctx.results.map((r) => parentChain(ctx.worker, r)))).flat());
    candidates = candidates.filter((c) => chain.has(c.snapshot));
  }
  const withResult = new Map(candidates.map((c) => [`${c.vertex} ${c.output}`, c.snapshot]));
  const out = new ConfigBuilder();
  /** "vertex output" → its records' indexes. */
  const items = new Map<string, number[]>();
  const summaries = new Map(ctx.vertices.map((v) => [v.digest, v]));
  for (const v of ctx.vertices) {
    const op = ctx.def.ops.get(v.digest);
    if (op === undefined || v.cacheKey === undefined) continue;
    const cm = vertexCacheMap(op, v);
    if (cm === undefined || cm.deps.length !== op.inputs.length) continue;
    const content = await Promise.all(cm.deps.map((dep, i) => contentRecord(ctx, out, summaries.get(op.inputs[i]!.digest), op.inputs[i]!.index, dep)));
    for (let output = 0; output < op.outputs; output++) {
      const inputs: BkInput[][] = cm.deps.map((dep, i) => {
        const input = op.inputs[i]!;
        const links = (items.get(`${input.digest} ${input.index}`) ?? []).map((link) => ({ selector: dep.selector, link }));
        const slow = content[i];
        return slow === undefined ? links : [...links, { selector: "", link: slow }];
      });
      // BuildKit drops a record with an input it cannot link (e.g. a session-bound source).
      if (inputs.some((links) => links.length === 0)) continue;
      const snapshot = withResult.get(`${v.digest} ${output}`);
      const top = snapshot === undefined ? undefined : out.chain(await chainBlobs(ctx, snapshot, layers));
      const results = top === undefined ? [] : [top];
      items.set(`${v.digest} ${output}`, cm.digests.map((d) => out.record({ digest: rootKey(d, output), results, chains: [], inputs })));
    }
  }
  return { config: out.config(), blobs: out.blobs };
}

/**
 * The record of an input's content key (BuildKit's slow key: rootKey(contenthash digest, -1),
 * no inputs, no result), when the dep has one and the input's result is at hand.
 */
async function contentRecord(ctx: CacheExportContext, out: ConfigBuilder, input: VertexSummary | undefined, index: number, dep: CacheMapDep): Promise<number | undefined> {
  if (dep.contentSelectors === undefined || input?.cacheKey === undefined) return undefined;
  const snapshot = ctx.store.lookup(input.cacheKey, index);
  if (snapshot === undefined || (await ctx.worker.snapshotter.stat(snapshot))?.kind !== "committed") return undefined;
  const digest = await inputContentDigest(ctx.worker, snapshot, ctx.def.ops.get(input.digest), dep);
  return digest === undefined ? undefined : out.contentRecord(rootKey(digest, CONTENT_OUTPUT));
}

/** Layers (each chain once, parents first) and records, as BuildKit's marshalState builds them. */
class ConfigBuilder {
  readonly blobs = new Map<Digest, CacheLayer>();
  readonly #layers: BkLayer[] = [];
  readonly #records: BkRecord[] = [];
  readonly #chains = new Map<string, number>();

  /** The index of the chain's top layer; undefined for an empty chain. */
  chain(layers: readonly CacheLayer[]): number | undefined {
    let id = "";
    let parent = -1;
    for (const l of layers) {
      id = `${l.blob.digest}${id}`;
      this.blobs.set(l.blob.digest, l);
      let index = this.#chains.get(id);
      if (index === undefined) {
        index = this.#layers.push({ blob: l.blob.digest, parent }) - 1;
        this.#chains.set(id, index);
      }
      parent = index;
    }
    return parent === -1 ? undefined : parent;
  }

  readonly #content = new Map<string, number>();

  record(r: BkRecord): number {
    return this.#records.push(r) - 1;
  }

  /** A content key's record, once per digest. */
  contentRecord(digest: string): number {
    let index = this.#content.get(digest);
    if (index === undefined) {
      index = this.record({ digest, results: [], chains: [], inputs: [] });
      this.#content.set(digest, index);
    }
    return index;
  }

  config(): BkConfig {
    return { layers: this.#layers, records: this.#records };
  }
}

/** Every (key, output) of the solve with a recorded result. */
function candidatesOf(ctx: CacheExportContext): Candidate[] {
  const out: Candidate[] = [];
  for (const v of ctx.vertices) {
    const op = ctx.def.ops.get(v.digest);
    if (v.cacheKey === undefined || op === undefined) continue;
    for (let output = 0; output < op.outputs; output++) {
      const snapshot = ctx.store.lookup(v.cacheKey, output);
      if (snapshot !== undefined) out.push({ vertex: v.digest, output, snapshot, description: v.name, kind: op.op.op ?? "" });
    }
  }
  return out;
}

async function existing(ctx: CacheExportContext, candidates: readonly Candidate[]): Promise<Candidate[]> {
  const kept: Candidate[] = [];
  for (const c of candidates) if ((await ctx.worker.snapshotter.stat(c.snapshot))?.kind === "committed") kept.push(c);
  return kept;
}

/** Snapshot names from name down to the base. */
async function parentChain(worker: Worker, name: string): Promise<string[]> {
  const chain: string[] = [];
  for (let current: string | undefined = name; current !== undefined; current = (await worker.snapshotter.stat(current))?.parent) chain.push(current);
  return chain;
}

/** The non-empty layers of snapshot's chain, base first. */
async function chainBlobs(ctx: CacheExportContext, snapshot: string, layers: LayerChoice): Promise<CacheLayer[]> {
  const { worker } = ctx;
  const result = { worker, snapshot, withMounted: <T>(fn: (dir: string) => Promise<T>) => withView(worker, snapshot, fn) };
  const chain = await resultLayers(result, { store: ctx.content, index: ctx.index }, { ...layers, signal: ctx.signal });
  return chain.flatMap((l) => (l.blob ? [{ blob: { mediaType: layerMediaType(l.blob.compression), digest: l.blob.digest, size: l.blob.size } satisfies Descriptor, diffID: l.blob.diffID }] : []));
}
