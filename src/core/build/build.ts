import { join } from "node:path";
import { mkdtemp, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import type { Digest } from "../digest.ts";
import { sha256 } from "../digest.ts";
import { createCacheMounts } from "../cache/cache-mounts.ts";
import { createSnapshotRefs } from "../cache/refs.ts";
import { openCacheStore } from "../cache/store.ts";
import { exportCaches, importCaches, type CacheExportSpec, type CacheImportSpec } from "../cache/remote/index.ts";
import type { BuildResult, ExporterInstance } from "../exporters/exporter.ts";
import { loadDefinition } from "../llb/definition.ts";
import type { ProgressWriter } from "../progress/events.ts";
import { solve } from "../solver/scheduler.ts";
import { validateEntitlements, type Entitlement } from "../solver/entitlements.ts";
import type { ExecSessionInputs } from "../solver/ops/exec.ts";
import { createOpResolver } from "../solver/ops/index.ts";
import { withView } from "../solver/ops/snapshots.ts";
import { openStatCache } from "../sources/local/stat-cache.ts";
import { ContentIndex } from "../content/index-db.ts";
import { ContentStore } from "../content/store.ts";
import type { RegistryClient } from "../registry/index.ts";
import type { Worker } from "../worker/worker.ts";

export interface BuildOptions {
  /** pb.Definition bytes. */
  readonly definition: Uint8Array;
  readonly worker: Worker;
  /** Client directories by name (`--local NAME=PATH`). */
  readonly localDirs: ReadonlyMap<string, string>;
  readonly session: ExecSessionInputs;
  /** Exporters, resolved (and so validated) before the build. */
  readonly exporters: readonly ExporterInstance[];
  readonly progress: ProgressWriter;
  /** The registry client image sources pull with (config and credentials applied), made on first use. */
  readonly registry: () => Promise<RegistryClient>;
  readonly noCache?: boolean;
  /** Entitlements granted to this build (`--allow`); exec steps needing others are refused. */
  readonly entitlements?: ReadonlySet<Entitlement>;
  /** `--export-cache`: where the solve's results go after the build (and exporters). */
  readonly cacheExports?: readonly CacheExportSpec[];
  /** `--import-cache`: caches whose records answer the local index's misses. */
  readonly cacheImports?: readonly CacheImportSpec[];
  readonly concurrency?: number;
  readonly signal: AbortSignal;
}

export interface BuildResponse {
  readonly exporterResponse: Record<string, string>;
  /** Steps that ran (not cached): 0 when the build made nothing new. */
  readonly executed: number;
}

/**
 * One build: validates the definition, solves it on the worker with the persistent cache,
 * then hands the result to each exporter. Progress of every step, exports included, goes to
 * opts.progress.
 */
export async function build(opts: BuildOptions): Promise<BuildResponse> {
  const def = loadDefinition(opts.definition);
  validateEntitlements(def, opts.entitlements ?? new Set());
  const { worker } = opts;
  const store = openCacheStore(join(worker.root, "cache.db"));
  const statCache = openStatCache(join(worker.root, "local-stat.db"));
  let index: ContentIndex | undefined;
  try {
    const refs = createSnapshotRefs(worker.snapshotter);
    const content = new ContentStore(worker.root);
    const resolve = createOpResolver({
      worker,
      refs,
      cacheMounts: createCacheMounts(worker.root),
      session: opts.session,
      local: { dirs: opts.localDirs, statCache },
      registry: opts.registry,
      content,
      index: (index ??= ContentIndex.open(content.dir)),
    });
    const cacheDeps = { worker, store, content, index: (index ??= ContentIndex.open(content.dir)), registry: opts.registry, progress: opts.progress, signal: opts.signal };
    const imports = await importCaches(opts.cacheImports ?? [], { ...cacheDeps, refs });
    const solved = await solve(def, {
      resolve,
      store: imports.store,
      progress: opts.progress,
      loadResult: (id) => imports.loadResult(id),
      noCache: opts.noCache,
      concurrency: opts.concurrency,
      signal: opts.signal,
    });
    const response: Record<string, string> = {};
    try {
      const resultId = solved.result?.id;
      const result: BuildResult = {
        withMounted: (fn) => (resultId ? withView(worker, resultId, fn) : withEmptyDir(fn)),
        worker,
        snapshot: resultId,
        describe: (snapshot) => store.get(snapshot)?.description || undefined,
      };
      for (const exporter of opts.exporters) Object.assign(response, await exportWithProgress(exporter, result, opts));
      Object.assign(response, await exportCaches(opts.cacheExports ?? [], { ...cacheDeps, def, vertices: solved.vertices, result: resultId }));
    } finally {
      await solved.result?.release();
    }
    return { exporterResponse: response, executed: solved.vertices.filter((v) => v.status === "completed").length };
  } finally {
    index?.close();
    statCache.close();
    store.close();
  }
}

async function exportWithProgress(exporter: ExporterInstance, result: BuildResult, opts: BuildOptions): Promise<Record<string, string>> {
  const digest = sha256(`export:${exporter.description}:${Date.now()}`) as Digest;
  const vertex = { type: "vertex" as const, digest, name: exporter.description, inputs: [] };
  const started = Date.now();
  opts.progress.write({ ...vertex, started });
  try {
    const response = await exporter.export(result, opts.signal);
    opts.progress.write({ ...vertex, started, completed: Date.now() });
    return response;
  } catch (err) {
    opts.progress.write({ ...vertex, started, completed: Date.now(), error: err instanceof Error ? err.message : String(err) });
    throw err;
  }
}

async function withEmptyDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "buildkit-empty-"));
  try {
    return await fn(dir);
  } finally {
    await rmdir(dir);
  }
}
