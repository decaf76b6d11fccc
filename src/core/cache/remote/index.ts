/**
 * What a build uses of remote caches. The implementations (layer writing, registry client,
 * tar reading) load only when a build names `--export-cache` or `--import-cache`.
 */
import type { ResultRef } from "../../solver/op.ts";
import type { CacheExportContext } from "./export.ts";
import type { CacheImportDeps, CacheImports } from "./import.ts";
import type { CacheImportSpec, StoredCacheExportSpec } from "./spec.ts";
import type { ImageLayerRef } from "./inline-format.ts";
import type { LayerChoice } from "../../image/image-layers.ts";

export type { CacheExportSpec, CacheImportSpec, StoredCacheExportSpec } from "./spec.ts";
export type { CacheExportContext } from "./export.ts";
export type { CacheImportDeps, CacheImports } from "./import.ts";

/** The imports' view of the local cache; with none, the local cache itself. */
export async function importCaches(specs: readonly CacheImportSpec[], deps: CacheImportDeps): Promise<CacheImports> {
  if (specs.length > 0) return await (await import("./import.ts")).importCaches(specs, deps);
  return { store: deps.store, loadResult: (id: string): Promise<ResultRef | undefined> => deps.refs.load(id) };
}

/** Exports the solve's cache to each spec; returns the manifest digest per location. */
export async function exportCaches(specs: readonly StoredCacheExportSpec[], ctx: CacheExportContext): Promise<Record<string, string>> {
  if (specs.length === 0) return {};
  return await (await import("./export.ts")).exportCaches(specs, ctx);
}

/** `--export-cache type=inline`: the records to embed in an image made of `image`'s layers (export.ts inlineCache). */
export async function inlineCache(ctx: CacheExportContext, image: readonly ImageLayerRef[], layers: LayerChoice): Promise<Uint8Array | undefined> {
  return await (await import("./export.ts")).inlineCache(ctx, image, layers);
}
