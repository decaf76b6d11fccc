/**
 * The engine: one long-lived owner of a worker and everything builds share on it. Daemonless
 * `buildkit build` makes one in-process for a single solve; `buildkit serve` makes one for the
 * daemon's life and runs every client's build on it. Because builds share the result holds, the
 * in-flight table and the cache index, identical work in simultaneous builds runs once, and
 * garbage collection never removes what another build still holds.
 */
import { join } from "node:path";
import { createCacheMounts } from "../cache/cache-mounts.ts";
import { gcDue, runGC } from "../cache/gc.ts";
import { prune, type PrunePolicy, type PruneReport } from "../cache/prune.ts";
import { createSnapshotRefs } from "../cache/refs.ts";
import { exportCaches, importCaches, type CacheExportSpec, type CacheImportSpec } from "../cache/remote/index.ts";
import { collectUsage, type UsageRecord } from "../cache/usage.ts";
import type { BuildResult, ExporterInstance } from "../exporters/exporter.ts";
import { loadDefinition } from "../llb/definition.ts";
import type { ProgressWriter } from "../progress/events.ts";
import type { RegistryClient } from "../registry/index.ts";
import type { BuildSession } from "../session/session.ts";
import { Inflight } from "../solver/inflight.ts";
import { createOpResolver } from "../solver/ops/index.ts";
import { solve } from "../solver/scheduler.ts";
import { withView } from "../worker/snapshots.ts";
import type { Worker } from "../worker/worker.ts";
import { exportWithProgress, withEmptyDir } from "./export.ts";
import { EngineState } from "./state.ts";

export interface EngineConfig {
  /** The registry client image sources and pushes use (config and credentials applied), made on first use. */
  readonly registry: () => Promise<RegistryClient>;
  /** Automatic garbage collection after builds: a fixed limit in bytes (0: off); absent: BuildKit's default policy. */
  readonly gcKeepStorage?: number;
  /** Collect after every build, not only after one that made something or once a minute (an explicit --gc-keep-storage). */
  readonly gcEveryBuild?: boolean;
  /** Ops running at once per build (default: see solver/scheduler.ts). */
  readonly concurrency?: number;
  /** Told of problems that do not fail a build (a failed garbage collection). */
  readonly onWarning?: (message: string, err: unknown) => void;
}

export interface SolveRequest {
  /** pb.Definition bytes, exactly as the client sent them (op digests are their hashes). */
  readonly definition: Uint8Array;
  /** Exporters, resolved (and so validated) before the build. */
  readonly exporters?: readonly ExporterInstance[];
  /** Run every op, ignoring cached results (results are still recorded). */
  readonly noCache?: boolean;
  /** `--export-cache`: where the solve's results go after the build (and exporters). */
  readonly cacheExports?: readonly CacheExportSpec[];
  /** `--import-cache`: caches whose records answer the local index's misses. */
  readonly cacheImports?: readonly CacheImportSpec[];
}

export interface SolveContext {
  readonly session: BuildSession;
  readonly progress: ProgressWriter;
  readonly signal: AbortSignal;
}

export interface SolveResponse {
  readonly exporterResponse: Record<string, string>;
  /** Steps that ran (not cached): 0 when the build made nothing new. */
  readonly executed: number;
}

export interface Engine {
  readonly worker: Worker;
  /** Runs one build: validates the definition, solves it, exports the result. */
  solve(request: SolveRequest, ctx: SolveContext): Promise<SolveResponse>;
  /** Every cache record, least recently used first, with what running builds hold marked in use. */
  usage(): Promise<UsageRecord[]>;
  /** Removes cache records under a policy; never what a running build holds. */
  prune(policy: PrunePolicy, opts?: { onRemoved?: (r: UsageRecord) => void; signal?: AbortSignal }): Promise<PruneReport>;
  /** Builds running now. */
  readonly active: number;
  /** Waits for running builds, then closes the databases and the worker. */
  close(): Promise<void>;
}

export function createEngine(opts: { worker: Worker; config: EngineConfig }): Engine {
  const { worker, config } = opts;
  const state = new EngineState(worker.root);
  const refs = createSnapshotRefs(worker.snapshotter);
  const cacheMounts = createCacheMounts(worker.root);
  const inflight = new Inflight();
  const running = new Set<Promise<unknown>>();
  let madeSomething = false;
  let closed = false;

  const usageSources = () => ({ root: worker.root, snapshotter: worker.snapshotter, store: state.store, cacheMountsDir: join(worker.root, "cache-mounts"), inUse: refs.inUse() });

  /** Collects garbage once no build runs: a build's fresh results are safe until it has recorded them. */
  async function collectGarbage(): Promise<void> {
    if (running.size > 0 || !(config.gcEveryBuild || gcDue(worker.root, madeSomething))) return;
    madeSomething = false;
    await runGC(worker, { keepStorage: config.gcKeepStorage, store: state.store, inUse: () => refs.inUse() }).catch((err) =>
      config.onWarning?.("garbage collection failed", err),
    );
  }

  async function runSolve(request: SolveRequest, ctx: SolveContext): Promise<SolveResponse> {
    const def = loadDefinition(request.definition);
    const store = state.store;
    const resolve = createOpResolver({
      worker,
      refs,
      cacheMounts,
      session: ctx.session,
      statCache: state.statCache,
      registry: config.registry,
      get content() {
        return state.content;
      },
      get index() {
        return state.index;
      },
    });
    const cacheDeps = {
      worker,
      store,
      get content() {
        return state.content;
      },
      get index() {
        return state.index;
      },
      registry: config.registry,
      progress: ctx.progress,
      signal: ctx.signal,
    };
    const imports = await importCaches(request.cacheImports ?? [], { ...cacheDeps, refs });
    const solved = await solve(def, {
      resolve,
      store: imports.store,
      progress: ctx.progress,
      loadResult: (id) => imports.loadResult(id),
      noCache: request.noCache,
      concurrency: config.concurrency,
      inflight,
      signal: ctx.signal,
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
      for (const exporter of request.exporters ?? []) Object.assign(response, await exportWithProgress(exporter, result, ctx));
      Object.assign(response, await exportCaches(request.cacheExports ?? [], { ...cacheDeps, def, vertices: solved.vertices, result: resultId }));
    } finally {
      await solved.result?.release();
    }
    const executed = solved.vertices.filter((v) => v.status === "completed").length;
    if (executed > 0 || (request.cacheImports?.length ?? 0) > 0) madeSomething = true;
    return { exporterResponse: response, executed };
  }

  return {
    worker,
    get active() {
      return running.size;
    },
    async solve(request, ctx) {
      if (closed) throw new Error("solving: the engine is closed");
      const build = runSolve(request, ctx);
      running.add(build);
      try {
        return await build;
      } finally {
        running.delete(build);
        await collectGarbage();
      }
    },
    usage: () => collectUsage(usageSources()),
    prune: (policy, pruneOpts = {}) => prune({ ...usageSources(), currentInUse: () => refs.inUse() }, policy, pruneOpts),
    async close() {
      closed = true;
      await Promise.allSettled([...running]);
      await inflight.quiesce();
      state.close();
      await worker.close();
    },
  };
}
