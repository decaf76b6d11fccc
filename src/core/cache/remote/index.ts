/**
 * What a build uses of remote caches. The implementations (layer writing, registry client,
 * tar reading) load only when a build names `--export-cache` or `--import-cache`.
 */
import type { ResultRef } from "../../solver/op.ts";
import type { CacheExportContext } from "./export.ts";
import type { CacheImportDeps, CacheImports } from "./import.ts";
import type { CacheExportSpec, CacheImportSpec } from "./spec.ts";

export type { CacheExportSpec, CacheImportSpec } from "./spec.ts";
export type { CacheExportContext } from "./export.ts";
export type { CacheImportDeps, CacheImports } from "./import.ts";

/** The imports' view of the local cache; with none, the local cache itself. */
export async function importCaches(specs: readonly CacheImportSpec[], deps: CacheImportDeps): Promise<CacheImports> {
  if (specs.length > 0) return await (await import("./import.ts")).importCaches(specs, deps);
  return { store: deps.store, loadResult: (id: string): Promise<ResultRef | undefined> => deps.refs.load(id) };
}

/** Exports the solve's cache to each spec; returns the manifest digest per location. */
export async function exportCaches(specs: readonly CacheExportSpec[], ctx: CacheExportContext): Promise<Record<string, string>> {
  if (specs.length === 0) return {};
  return await (await import("./export.ts")).exportCaches(specs, ctx);
}
