import { randomUUID } from "node:crypto";
import type { Engine, ExportSubject, SolveContext, SolvedResult } from "../../core/engine/index.ts";
import { parsePlatformsJson, PLATFORMS_KEY, type PlatformEntry } from "../../core/exporters/metadata-keys.ts";
import type { CacheImportSpec } from "../../core/cache/remote/spec.ts";
import { BuildkitError } from "../../core/errors.ts";
import type { CacheEntry } from "../control/cache-entries.ts";
import type { ResultAttestation } from "../../core/exporters/exporter.ts";
import type { SBOMExtras } from "../../core/frontends/frontend.ts";
import type { BuildOrigin } from "../../core/provenance/build-info.ts";
import type { SourceProvenance } from "../../core/provenance/capture.ts";

/** What a gateway client returned: a result (undefined: scratch) and its metadata. */
export interface ReturnedResult {
  /** One result (undefined: scratch), or one per platform. */
  readonly result: ExportSubject;
  readonly metadata: Readonly<Record<string, Uint8Array>>;
  /** The frontend that made the result, when a frontend did. */
  readonly origin: BuildOrigin | undefined;
  /** What an SBOM scan of a single result attaches beside it, when the frontend that made it said (a Dockerfile's BUILDKIT_SBOM_SCAN_*). */
  readonly sbomExtras?: SBOMExtras;
  /** Attestations the client returned with the result, by platform ID. */
  readonly attestations?: Readonly<Record<string, readonly ResultAttestation[]>>;
}

/**
 * A build driven through the LLBBridge gateway (BuildKit's `buildctl build` sends even a plain
 * definition this way): the client solves definitions, gets result ids back, may read files of
 * them, and finally returns one result (or an error) for the daemon to export. The results it
 * solved stay held until the build ends.
 */
export class GatewayBuild {
  readonly #engine: Engine;
  readonly #ctx: SolveContext;
  readonly #results = new Map<string, SolvedResult>();
  /** The frontend behind each result a frontend made. */
  readonly #origins = new Map<string, BuildOrigin>();
  /** The SBOM scan extras of the results a frontend made, by id. */
  readonly #sbomExtras = new Map<string, SBOMExtras>();
  /** Images resolved by the client or a frontend, and the sources of results already let go of. */
  readonly #resolved: SourceProvenance[] = [];
  /** Definitions the client sent with Control.Solve (FrontendInputs), raw. */
  readonly inputs: Readonly<Record<string, Uint8Array>>;
  readonly returned: Promise<ReturnedResult>;
  #resolve!: (r: ReturnedResult) => void;
  #reject!: (err: Error) => void;
  #done = false;

  /** The cache imports the gateway's solves name (entries as the client sent them), as specs. */
  readonly cacheImports: (entries: readonly CacheEntry[]) => CacheImportSpec[];

  constructor(engine: Engine, ctx: SolveContext, inputs: Readonly<Record<string, Uint8Array>> = {}, cacheImports: (entries: readonly CacheEntry[]) => CacheImportSpec[] = () => []) {
    this.#engine = engine;
    this.cacheImports = cacheImports;
    this.#ctx = ctx;
    this.inputs = inputs;
    this.returned = new Promise<ReturnedResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.returned.catch(() => undefined);
    ctx.signal.addEventListener("abort", () => this.fail(ctx.signal.reason instanceof Error ? ctx.signal.reason : new BuildkitError("Canceled", "build canceled")), { once: true });
  }

  /** Whether the client has returned (a result or an error) or the build failed. */
  get ended(): boolean {
    return this.#done;
  }

  get context(): SolveContext {
    return this.#ctx;
  }

  get engine(): Engine {
    return this.#engine;
  }

  /** Solves a definition and keeps its result under a new id ("" for an empty definition). */
  async solve(definition: Uint8Array, opts: { noCache?: boolean; cacheImports?: readonly CacheImportSpec[]; origin?: BuildOrigin; sbomExtras?: SBOMExtras } = {}): Promise<string> {
    if (this.#done) throw new BuildkitError("FailedPrecondition", "solving: the build has already returned");
    const solved = await this.#engine.evaluate({ definition, noCache: opts.noCache, cacheImports: opts.cacheImports ?? [] }, this.#ctx);
    if (solved.ref === undefined) {
      this.#resolved.push(...solved.sources);
      await solved.release();
      return "";
    }
    const id = randomUUID().replaceAll("-", "");
    this.#results.set(id, solved);
    if (opts.origin) this.#origins.set(id, opts.origin);
    if (opts.sbomExtras) this.#sbomExtras.set(id, opts.sbomExtras);
    return id;
  }

  /** Keeps a result solved elsewhere (by a frontend's own gateway build) under a new id. */
  adopt(solved: SolvedResult, origin?: BuildOrigin): string {
    const id = randomUUID().replaceAll("-", "");
    this.#results.set(id, solved);
    if (origin) this.#origins.set(id, origin);
    return id;
  }

  /** Hands a result over (see adopt): it is no longer this build's to release. */
  give(solved: SolvedResult): SolvedResult {
    for (const [id, r] of this.#results) if (r === solved) this.#results.delete(id);
    return solved;
  }

  /** An image the client or a frontend resolved (its config asked for), for build information. */
  recordResolved(sources: readonly SourceProvenance[]): void {
    this.#resolved.push(...sources);
  }

  /** Every source this build used: its results' and what was resolved (BuildKit's bridge's eachRef and allImages). */
  sources(): SourceProvenance[] {
    return [...[...this.#results.values()].flatMap((r) => r.sources), ...this.#resolved];
  }

  /** A result by id; undefined for "" (scratch). */
  result(id: string): SolvedResult | undefined {
    if (id === "") return undefined;
    const found = this.#results.get(id);
    if (!found) throw new BuildkitError("NotFound", `reading result ${id}: no such result in this build`);
    return found;
  }

  /** The client's final answer. */
  return(id: string, metadata: Readonly<Record<string, Uint8Array>>, attestations: Readonly<Record<string, readonly ResultAttestation[]>> = {}): void {
    const result = this.result(id);
    if (this.#done) throw new BuildkitError("FailedPrecondition", "returning: the build has already returned");
    this.#done = true;
    const sbomExtras = this.#sbomExtras.get(id);
    this.#resolve({ result, metadata, origin: this.#origins.get(id), ...(sbomExtras ? { sbomExtras } : {}), ...withAttestations(attestations) });
  }

  /**
   * The client's final answer with one result per platform (a RefMap): refs.platforms in the
   * metadata names them and gives their order, as BuildKit's exporters require.
   */
  returnPlatforms(ids: Readonly<Record<string, string>>, metadata: Readonly<Record<string, Uint8Array>>, attestations: Readonly<Record<string, readonly ResultAttestation[]>> = {}): void {
    const listed = platformsOf(metadata);
    if (listed === undefined) throw new BuildkitError("InvalidArgument", "unable to export multiple refs, missing platforms mapping");
    const platforms = listed.map(({ id, platform }) => {
      const ref = ids[id];
      if (ref === undefined) throw new BuildkitError("InvalidArgument", `failed to find ref for ID ${id}`);
      const solved = this.result(ref);
      if (solved === undefined) throw new BuildkitError("InvalidArgument", `returning: platform ${id} has an empty result`);
      const sbomExtras = this.#sbomExtras.get(ref);
      return { id, platform, solved, ...(sbomExtras ? { sbomExtras } : {}) };
    });
    if (this.#done) throw new BuildkitError("FailedPrecondition", "returning: the build has already returned");
    this.#done = true;
    this.#resolve({ result: { platforms }, metadata, origin: this.#origins.get(Object.values(ids)[0] ?? ""), ...withAttestations(attestations) });
  }

  fail(err: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.#reject(err);
  }

  /** Lets go of every result this build solved. */
  async release(): Promise<void> {
    const results = [...this.#results.values()];
    this.#results.clear();
    await Promise.allSettled(results.map((r) => r.release()));
  }
}

/** refs.platforms (exptypes.Platforms JSON) of a result's metadata; undefined when absent. */
function platformsOf(metadata: Readonly<Record<string, Uint8Array>>): PlatformEntry[] | undefined {
  const raw = metadata[PLATFORMS_KEY];
  if (raw === undefined) return undefined;
  try {
    return parsePlatformsJson(raw);
  } catch (err) {
    throw new BuildkitError("InvalidArgument", err instanceof Error ? err.message : String(err));
  }
}

const withAttestations = (a: Readonly<Record<string, readonly ResultAttestation[]>>): Pick<ReturnedResult, "attestations"> => (Object.keys(a).length > 0 ? { attestations: a } : {});
