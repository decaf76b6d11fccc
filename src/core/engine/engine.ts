/**
 * The engine: one long-lived owner of a worker and everything builds share on it. Daemonless
 * `buildkit build` makes one in-process for a single solve; `buildkit serve` makes one for the
 * daemon's life and runs every client's build on it. Because builds share the result holds, the
 * in-flight table and the cache index, identical work in simultaneous builds runs once, and
 * garbage collection never removes what another build still holds.
 */
import { createCacheMounts } from "../cache/cache-mounts.ts";
import { gcDue, gcWaitMs } from "../cache/gc-due.ts";
import type { PrunePolicy, PruneReport } from "../cache/prune.ts";
import { createSnapshotRefs } from "../cache/refs.ts";
import { BUILDINFO_METADATA_KEY, buildInfo, type BuildOrigin } from "../provenance/build-info.ts";
import { SourceCapture, type SourceProvenance } from "../provenance/capture.ts";
import type { HistoryProvenance, ProvenanceRequest, SBOMRequest } from "../provenance/attestations.ts";
import { exportCaches, importCaches, inlineCache, type CacheExportSpec, type CacheImportSpec, type StoredCacheExportSpec } from "../cache/remote/index.ts";
import { withTask } from "../progress/task.ts";
import type { UsageRecord } from "../cache/usage.ts";
import { BuildkitError } from "../errors.ts";
import type { BuildResult, ExporterInstance, PlatformResult, ResultAttestation } from "../exporters/exporter.ts";
import type { SBOMExtras } from "../frontends/frontend.ts";
import type { Platform } from "../llb/platform.ts";
import { loadDefinition, type LoadedDefinition } from "../llb/definition.ts";
import type { ProgressWriter } from "../progress/events.ts";
import type { RegistryClient } from "../registry/index.ts";
import type { BuildSession } from "../session/session.ts";
import { validateEntitlements, type Entitlement } from "../solver/entitlements.ts";
import { Inflight } from "../solver/inflight.ts";
import type { VertexSummary } from "../solver/job.ts";
import type { ResultRef } from "../solver/op.ts";
import { createOpResolver } from "../solver/ops/index.ts";
import { solve } from "../solver/scheduler.ts";
import { withView } from "../worker/snapshots.ts";
import { statePath } from "../worker/storage.ts";
import type { Worker } from "../worker/worker.ts";
import { ExportAttestations } from "./attestations.ts";
import { mergedSolves, metadataFor, sourcesFor } from "./platforms.ts";
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

export interface EvaluateRequest {
  /** pb.Definition bytes, exactly as the client sent them (op digests are their hashes). */
  readonly definition: Uint8Array;
  /** Run every op, ignoring cached results (results are still recorded). */
  readonly noCache?: boolean;
  /** `--import-cache`: caches whose records answer the local index's misses. */
  readonly cacheImports?: readonly CacheImportSpec[];
}

export interface ExportRequest {
  /** Exporters, resolved (and so validated) before the build. */
  readonly exporters?: readonly ExporterInstance[];
  /** `--export-cache`: where the solve's results go after the build (and exporters). */
  readonly cacheExports?: readonly CacheExportSpec[];
  /** The frontend's result metadata (e.g. "containerimage.config"), handed to exporters. */
  readonly metadata?: Readonly<Record<string, Uint8Array>>;
  /** The frontend that made the definition and its attributes, for build information. */
  readonly origin?: BuildOrigin;
  /**
   * Sources the build used besides the result's own: images a frontend or gateway client
   * resolved, and the sources of the other definitions a gateway client solved.
   */
  readonly sources?: readonly SourceProvenance[];
  /** `attest:provenance`: every result (each platform's) gets a provenance attestation for the exporters. */
  readonly provenance?: ProvenanceRequest;
  /** `attest:sbom`: every result (each platform's) is scanned with the generator image; its statements are attestations too. */
  readonly sbom?: SBOMRequest;
  /**
   * Given when the frontend scans its own result (BuildKit's Dockerfile frontend): what the scan
   * of a single result attaches beside it (BUILDKIT_SBOM_SCAN_* context and stages), and the
   * scanner counts as a source of the build. Absent: the controller's processor's scan, which
   * BuildKit does not list among the build's sources.
   */
  readonly sbomExtras?: SBOMExtras;
  /** The daemon's build history, told each result's mode=max provenance. */
  readonly history?: HistoryProvenance;
  /** Attestations a gateway client returned with the result, by platform ID (a single result takes them all). */
  readonly returnedAttestations?: Readonly<Record<string, readonly ResultAttestation[]>>;
}

/** One platform's definition in a multi-platform build (a frontend's result per platform). */
export interface PlatformDefinition {
  /** The platform's ID in the frontend's refs.platforms ("linux/arm64"). */
  readonly id: string;
  readonly platform: Platform;
  readonly definition: Uint8Array;
  /** What an SBOM scan of this platform's result attaches beside it. */
  readonly sbomExtras?: SBOMExtras;
}

/** A build of one definition, or of one per platform (their results are exported together). */
export type SolveRequest = Omit<EvaluateRequest, "definition"> &
  ExportRequest &
  ({ readonly definition: Uint8Array; readonly platforms?: undefined } | { readonly definition?: undefined; readonly platforms: readonly PlatformDefinition[] });

/** A solved definition whose result the caller holds until `release`. */
export interface SolvedResult {
  /** Undefined for an empty definition (a scratch result). */
  readonly ref: ResultRef | undefined;
  readonly def: LoadedDefinition;
  /** The definition's bytes, as solved. */
  readonly definition: Uint8Array;
  readonly vertices: readonly VertexSummary[];
  /** The image, git and http sources of the result's graph, with their pins. */
  readonly sources: readonly SourceProvenance[];
  /** Steps that ran (not cached). */
  readonly executed: number;
  release(): Promise<void>;
}

/** One platform's held result in a multi-platform build. */
export interface PlatformSolved {
  readonly id: string;
  readonly platform: Platform;
  readonly solved: SolvedResult;
  readonly sbomExtras?: SBOMExtras;
}

/** What an export exports: one result (undefined: scratch), or one per platform. */
export type ExportSubject = SolvedResult | undefined | { readonly platforms: readonly PlatformSolved[] };

export interface SolveContext {
  readonly session: BuildSession;
  readonly progress: ProgressWriter;
  readonly signal: AbortSignal;
  /** What the build was granted (`--allow`, checked against the daemon's allowance); none by default. */
  readonly entitlements?: ReadonlySet<Entitlement>;
}

export interface SolveResponse {
  readonly exporterResponse: Record<string, string>;
  /** Steps that ran (not cached): 0 when the build made nothing new. */
  readonly executed: number;
}

export interface Engine {
  readonly worker: Worker;
  /** The registry client builds use (frontends resolve image configs with it too). */
  readonly registry: () => Promise<RegistryClient>;
  /** Runs one build: validates the definition, solves it, exports the result. */
  solve(request: SolveRequest, ctx: SolveContext): Promise<SolveResponse>;
  /** Solves a definition and holds its result for the caller (a frontend's or gateway client's Solve). */
  evaluate(request: EvaluateRequest, ctx: SolveContext): Promise<SolvedResult>;
  /** Exports a held result (undefined: scratch) or one per platform; the caller still releases them. */
  export(result: ExportSubject, request: ExportRequest, ctx: SolveContext): Promise<Record<string, string>>;
  /** Runs fn with a result's files mounted read-only (an empty directory for scratch). */
  withResult<T>(ref: ResultRef | undefined, fn: (dir: string) => Promise<T>): Promise<T>;
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

  const usageSources = () => ({ root: worker.root, content: worker.content, snapshotter: worker.snapshotter, store: state.store, cacheMountsDir: statePath(worker.root, "cacheMounts"), inUse: refs.inUse() });

  /** A collection put off by the quiet minute (gc-due.ts), and the one running now. */
  let deferredGC: ReturnType<typeof setTimeout> | undefined;
  let collecting: Promise<void> | undefined;

  /** Collects garbage once no build runs: a build's fresh results are safe until it has recorded them. */
  async function collectGarbage(): Promise<void> {
    if (running.size > 0 || closed) return;
    if (collecting !== undefined || !(config.gcEveryBuild || gcDue(worker.root, madeSomething))) {
      if (madeSomething) deferGC();
      return;
    }
    madeSomething = false;
    // The collector (with prune and usage) loads only when a collection is due.
    const collect = async () => (await import("../cache/gc.ts")).runGC(worker, { keepStorage: config.gcKeepStorage, store: state.store, inUse: () => refs.inUse() });
    collecting = collect().then(
      () => undefined,
      (err: unknown) => config.onWarning?.("garbage collection failed", err),
    );
    try {
      await collecting;
    } finally {
      collecting = undefined;
    }
  }

  /**
   * A long-lived engine (serve) collects what its builds made once the quiet minute is over, as
   * BuildKit's throttled GC does; a one-build process closes first and leaves it to its successor
   * (whose gcDue finds the minute over). The timer keeps no process alive.
   */
  function deferGC(): void {
    if (deferredGC !== undefined) return;
    deferredGC = setTimeout(() => {
      deferredGC = undefined;
      void collectGarbage();
    }, gcWaitMs(worker.root) + 100);
    deferredGC.unref?.();
  }

  function opDeps(session: BuildSession) {
    return {
      worker,
      refs,
      cacheMounts,
      session,
      // Opened by the first local source only: a build without one never opens local-stat.db.
      statCache: () => state.statCache(),
      registry: config.registry,
      content: worker.content,
      get index() {
        return state.index;
      },
    };
  }

  /** What remote cache import and export use; callers add theirs with Object.assign, not a spread (which would read, and so open, the content index). */
  function cacheDeps(ctx: SolveContext) {
    return {
      worker,
      store: state.store,
      content: worker.content,
      get index() {
        return state.index;
      },
      registry: config.registry,
      progress: ctx.progress,
      signal: ctx.signal,
    };
  }

  async function evaluate(request: EvaluateRequest, ctx: SolveContext): Promise<SolvedResult> {
    const def = loadDefinition(request.definition);
    validateEntitlements(def, ctx.entitlements ?? new Set());
    const imports = await importCaches(request.cacheImports ?? [], Object.assign(cacheDeps(ctx), { refs }));
    const solved = await solve(def, {
      resolve: createOpResolver(opDeps(ctx.session)),
      store: imports.store,
      progress: ctx.progress,
      loadResult: (id) => imports.loadResult(id),
      observeKey: imports.observeKey,
      lateLookup: imports.lateLookup,
      noCache: request.noCache,
      concurrency: config.concurrency,
      inflight,
      signal: ctx.signal,
    }).catch(async (err: unknown) => {
      // The failing step's lines in the build's files (the definition's source map), as BuildKit's bridge adds them.
      throw (await import("../solver/source-locations.ts")).withDefinitionSources(err, request.definition);
    });
    const executed = solved.vertices.filter((v) => v.status === "completed").length;
    if (executed > 0 || (request.cacheImports?.length ?? 0) > 0) madeSomething = true;
    const sources = solved.vertices.flatMap((v) => (v.provenance ? [v.provenance] : []));
    return { ref: solved.result, def, definition: request.definition, vertices: solved.vertices, sources, executed, release: async () => solved.result?.release() };
  }

  const withResult = <T>(ref: ResultRef | undefined, fn: (dir: string) => Promise<T>): Promise<T> =>
    ref ? withView(worker, ref.id, fn) : withEmptyDir(fn);

  /** A solved result as exporters see it; undefined: scratch. */
  function resultFor(solved: SolvedResult | undefined, metadata: Readonly<Record<string, Uint8Array>> | undefined, inline: Pick<BuildResult, "inlineCache" | "attestations">): BuildResult {
    return {
      withMounted: (fn) => withResult(solved?.ref, fn),
      worker,
      snapshot: solved?.ref?.id,
      describe: (id) => state.store.get(id)?.description || undefined,
      metadata,
      ...inline,
    };
  }

  /** What cache export (and inline cache) reads of one or several solves. */
  const cacheContext = (ctx: SolveContext, solves: readonly SolvedResult[]) => Object.assign(cacheDeps(ctx), mergedSolves(solves));

  /** Build information (BuildKit v0.11) of a solve: its own sources and those the build resolved besides. */
  const buildInfoOf = (solved: SolvedResult, sources: readonly SourceProvenance[], origin: BuildOrigin | undefined): Uint8Array =>
    buildInfo(captureOf(solved, sources), origin ?? {});
  const captureOf = (solved: SolvedResult, sources: readonly SourceProvenance[]) => new SourceCapture().addAll(solved.sources).addAll(sources).finish();

  /** What an export attaches to its results (attestations, the history's provenance). */
  const attestationsFor = (request: ExportRequest, ctx: SolveContext) =>
    ExportAttestations.prepare(request, {
      registry: config.registry,
      worker,
      capture: captureOf,
      solveAndRead: async (definition, fn) => {
        const scan = await evaluate({ definition }, ctx);
        try {
          return await withResult(scan.ref, async (dir) => fn(dir));
        } finally {
          await scan.release();
        }
      },
    }, ctx.signal);

  async function exportResult(subject: ExportSubject, request: ExportRequest, ctx: SolveContext): Promise<Record<string, string>> {
    if (subject !== undefined && "platforms" in subject) return exportPlatforms(subject.platforms, request, ctx);
    const solved = subject;
    const response: Record<string, string> = {};
    const exports = request.cacheExports ?? [];
    const stored = exports.filter((s): s is StoredCacheExportSpec => s.type !== "inline");
    // type=inline: image-making exporters ask for the records that fit their layers (BuildKit's
    // inline cache exporter); any other exporter never asks, and the request is ignored.
    let inlineAsked = false;
    const inline: Pick<BuildResult, "inlineCache"> =
      solved && exports.some((s) => s.type === "inline")
        ? {
            inlineCache: (layers, opts) => {
              inlineAsked = true;
              return inlineCache(cacheContext(ctx, [solved]), layers, opts);
            },
          }
        : {};
    // Build information: in the response, and in the metadata image exporters read.
    let metadata = request.metadata;
    // The SBOM scanner is a source of the build (build information, provenance) only when the frontend scanned.
    const attest = await attestationsFor(request, ctx);
    const sources = attest.sources(request.sources ?? [], request.sbomExtras);
    if (solved?.ref) {
      const info = buildInfoOf(solved, sources, request.origin);
      metadata = { ...metadata, [BUILDINFO_METADATA_KEY]: info };
      response[BUILDINFO_METADATA_KEY] = Buffer.from(info).toString("base64");
    }
    const part = solved && { solved, sources, ...(request.sbomExtras ? { sbomExtras: request.sbomExtras } : {}) };
    const result = resultFor(solved, metadata, { ...inline, ...(part ? await attest.of(part) : {}) });
    if (part) attest.record([part]);
    // The export step follows the result's vertex, so a trace's critical path runs through it.
    const inputs = solved?.def.result ? [solved.def.result.digest] : [];
    for (const exporter of request.exporters ?? []) Object.assign(response, await exportWithProgress(exporter, result, { ...ctx, inputs }));
    if (inline.inlineCache && !inlineAsked) {
      // BuildKit ignores an inline cache export without an image exporter, silently; we say so.
      await withTask(ctx.progress, "exporting inline cache", async (task) => task.warn("type=inline: no image, oci or docker output to embed the cache in; nothing exported"));
    }
    if (solved && stored.length > 0) Object.assign(response, await exportCaches(stored, cacheContext(ctx, [solved])));
    return response;
  }

  /**
   * A multi-platform result: each platform's result with its own metadata (KEY/ID over KEY, as
   * exptypes.ParseKey) and build information (containerimage.buildinfo/ID, as BuildKit's solver
   * adds it per ref), exported together by each exporter.
   */
  async function exportPlatforms(platforms: readonly PlatformSolved[], request: ExportRequest, ctx: SolveContext): Promise<Record<string, string>> {
    const response: Record<string, string> = {};
    const inline = (request.cacheExports ?? []).some((s) => s.type === "inline");
    const ids = platforms.map((p) => p.id);
    const attest = await attestationsFor(request, ctx);
    const attested = platforms.map(({ id, platform, solved, sbomExtras }) => ({
      id,
      solved,
      sources: attest.sources(sourcesFor(request.sources ?? [], platform, platforms), sbomExtras),
      ...(sbomExtras ? { sbomExtras } : {}),
    }));
    // Each platform's attestations (its SBOM scan solved), one platform after the other.
    const attestations: Pick<BuildResult, "attestations">[] = [];
    for (const part of attested) attestations.push(await attest.of(part));
    const parts: PlatformResult[] = platforms.map(({ id, platform, solved }, i) => {
      const { sources } = attested[i]!;
      const info = buildInfoOf(solved, sources, request.origin);
      response[`${BUILDINFO_METADATA_KEY}/${id}`] = Buffer.from(info).toString("base64");
      const metadata = { ...metadataFor(request.metadata ?? {}, id, ids), [BUILDINFO_METADATA_KEY]: info };
      // type=inline: each platform's image carries the records of its own solve.
      const own: Pick<BuildResult, "inlineCache"> = inline ? { inlineCache: (layers, opts) => inlineCache(cacheContext(ctx, [solved]), layers, opts) } : {};
      return { id, platform, result: resultFor(solved, metadata, { ...own, ...attestations[i] }) };
    });
    attest.record(attested);
    const result: BuildResult = {
      withMounted: () => Promise.reject(new BuildkitError("Unimplemented", `this exporter cannot export several platforms (${ids.join(", ")})`)),
      worker,
      metadata: request.metadata,
      platforms: parts,
    };
    const inputs = platforms.flatMap((p) => (p.solved.def.result ? [p.solved.def.result.digest] : []));
    for (const exporter of request.exporters ?? []) Object.assign(response, await exportWithProgress(exporter, result, { ...ctx, inputs }));
    // One cache for every platform, as BuildKit exports all of a result's refs together.
    const stored = (request.cacheExports ?? []).filter((s): s is StoredCacheExportSpec => s.type !== "inline");
    if (stored.length > 0) Object.assign(response, await exportCaches(stored, cacheContext(ctx, platforms.map((p) => p.solved))));
    return response;
  }

  /** Runs one piece of build work, counted as running so GC waits for it. */
  async function tracked<T>(work: () => Promise<T>): Promise<T> {
    if (closed) throw new BuildkitError("Unavailable", "solving: the engine is shutting down");
    const promise = work();
    running.add(promise);
    try {
      return await promise;
    } finally {
      running.delete(promise);
      await collectGarbage();
    }
  }

  return {
    worker,
    registry: config.registry,
    get active() {
      return running.size;
    },
    solve: (request, ctx) =>
      tracked(async () => {
        const { platforms, definition } = request;
        let subject: ExportSubject;
        let held: SolvedResult[];
        if (platforms === undefined) {
          const solved = await evaluate({ ...request, definition }, ctx);
          [subject, held] = [solved, [solved]];
        } else {
          const settled = await Promise.allSettled(platforms.map((p) => evaluate({ ...request, definition: p.definition }, ctx)));
          held = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
          const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
          if (failed) {
            await Promise.allSettled(held.map((s) => s.release()));
            throw failed.reason;
          }
          subject = { platforms: platforms.map((p, i) => ({ id: p.id, platform: p.platform, solved: held[i]!, ...(p.sbomExtras ? { sbomExtras: p.sbomExtras } : {}) })) };
        }
        let exporterResponse: Record<string, string>;
        try {
          exporterResponse = await exportResult(subject, request, ctx);
        } finally {
          await Promise.allSettled(held.map((s) => s.release()));
        }
        // Success is reported only once the results are on disk (a no-op when nothing was written).
        await worker.sync();
        return { exporterResponse, executed: held.reduce((n, s) => n + s.executed, 0) };
      }),
    evaluate: (request, ctx) => tracked(() => evaluate(request, ctx)),
    export: (solved, request, ctx) =>
      tracked(async () => {
        const response = await exportResult(solved, request, ctx);
        await worker.sync();
        return response;
      }),
    withResult,
    // Collection, usage and pruning load their modules when used: a cached build rarely does.
    usage: async () => (await import("../cache/usage.ts")).collectUsage(usageSources()),
    prune: async (policy, pruneOpts = {}) => (await import("../cache/prune.ts")).prune({ ...usageSources(), currentInUse: () => refs.inUse() }, policy, pruneOpts),
    async close() {
      closed = true;
      clearTimeout(deferredGC);
      await Promise.allSettled([...running]);
      await collecting;
      await inflight.quiesce();
      state.close();
      await worker.close();
    },
  };
}
