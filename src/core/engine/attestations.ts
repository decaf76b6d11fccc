/**
 * What an export attaches to each result it exports, as BuildKit v0.11's processors and bridge
 * give them: the attestations a gateway client returned, then the SBOM statements of
 * `attest:sbom` (the scanner image run over the result), then the provenance of
 * `attest:provenance`; and, for the daemon's build history, every result's mode=max provenance.
 * The SBOM and provenance code loads only for an export that needs it (a cached build's
 * start-up pays for none of it).
 */
import type { BuildResult, ResultAttestation } from "../exporters/exporter.ts";
import type { SBOMExtras } from "../frontends/frontend.ts";
import { formatPlatform, hostPlatform } from "../llb/platform.ts";
import type { HistoryProvenance, ProvenanceRequest, SBOMRequest } from "../provenance/attestations.ts";
import type { BuildOrigin } from "../provenance/build-info.ts";
import type { SourceCapture, SourceProvenance } from "../provenance/capture.ts";
import type { RegistryClient } from "../registry/index.ts";
import type { SBOMScanner } from "../sbom/scan.ts";
import type { ResultRef } from "../solver/op.ts";
import type { Worker } from "../worker/worker.ts";
import type { LoadedDefinition } from "../llb/definition.ts";

/** What of an export request its attestations depend on. */
export interface AttestationRequest {
  readonly origin?: BuildOrigin;
  readonly provenance?: ProvenanceRequest;
  readonly sbom?: SBOMRequest;
  /** Given when the frontend scans its own result: the scanner image is then a source of the build. */
  readonly sbomExtras?: SBOMExtras;
  readonly history?: HistoryProvenance;
  /** By platform ID; a single result takes them all. */
  readonly returnedAttestations?: Readonly<Record<string, readonly ResultAttestation[]>>;
}

/** A solved result as far as its attestations go. */
export interface AttestedSolve {
  readonly ref: ResultRef | undefined;
  /** The sources of the result's own graph. */
  readonly sources: readonly SourceProvenance[];
  readonly def: LoadedDefinition;
  readonly definition: Uint8Array;
}

/** One result to attest: its platform's ID (none: the single result), with the sources the export counts for it. */
export interface AttestedPart {
  readonly id?: string;
  readonly solved: AttestedSolve;
  readonly sources: readonly SourceProvenance[];
  readonly sbomExtras?: SBOMExtras;
}

export interface AttestationDeps {
  readonly registry: () => Promise<RegistryClient>;
  readonly worker: Worker;
  /** The capture of a result's sources and the build's (build information's and provenance's). */
  capture(solved: AttestedSolve, sources: readonly SourceProvenance[]): SourceCapture;
  /** Solves a definition (the SBOM scan) and runs fn on its result mounted, then lets it go. */
  solveAndRead<T>(definition: Uint8Array, fn: (dir: string) => Promise<T> | T): Promise<T>;
}

/** The provenance code: loaded only for a build that asks for attestations or keeps history. */
interface ProvenanceModules {
  readonly provenanceAttestations: typeof import("../provenance/result-attestations.ts").provenanceAttestations;
  readonly predicateJSON: typeof import("../provenance/predicate.ts").predicateJSON;
  readonly historyProvenanceRequest: typeof import("../provenance/attestations.ts").historyProvenanceRequest;
}

export class ExportAttestations {
  readonly #request: AttestationRequest;
  readonly #deps: AttestationDeps;
  readonly #mods: ProvenanceModules | undefined;
  readonly #scanner: SBOMScanner | undefined;

  private constructor(request: AttestationRequest, deps: AttestationDeps, mods: ProvenanceModules | undefined, scanner: SBOMScanner | undefined) {
    this.#request = request;
    this.#deps = deps;
    this.#mods = mods;
    this.#scanner = scanner;
  }

  /**
   * Loads what the request needs; the SBOM scanner's image config is resolved here, before any
   * result is looked at (even for scratch, as BuildKit's processor does).
   */
  static async prepare(request: AttestationRequest, deps: AttestationDeps, signal: AbortSignal): Promise<ExportAttestations> {
    return new ExportAttestations(request, deps, await provenanceModules(request), await sbomScanner(request, deps, signal));
  }

  /** A result's sources with, when its frontend scanned it, the scanner image. */
  sources(sources: readonly SourceProvenance[], sbomExtras: SBOMExtras | undefined): readonly SourceProvenance[] {
    return sbomExtras && this.#scanner ? [...sources, this.#scanner.source] : sources;
  }

  /**
   * One result's attestations; none for scratch, as BuildKit skips a nil ref. A single result's
   * scan is named after the default platform, as exptypes.ParsePlatforms names it.
   */
  async of(part: AttestedPart): Promise<Pick<BuildResult, "attestations">> {
    const { solved } = part;
    const returned = solved.ref ? this.#returnedFor(part.id) : [];
    const sboms = hasSBOM(this.#returnedFor(part.id)) ? [] : await this.#scanned(part.id ?? formatPlatform(hostPlatform()), solved, part.sbomExtras);
    const provenance = this.#mods && this.#request.provenance && solved.ref ? this.#mods.provenanceAttestations(this.#request.provenance, this.#attested(part)) : [];
    const all = [...returned, ...sboms, ...provenance];
    return all.length > 0 ? { attestations: all } : {};
  }

  /** Tells the build history each result's mode=max provenance (none for scratch). */
  record(parts: readonly AttestedPart[]): void {
    const history = this.#request.history;
    const mods = this.#mods;
    if (!history || !mods) return;
    const maxMode = mods.historyProvenanceRequest(history);
    history.take(
      parts
        .filter((p) => p.solved.ref)
        .map((part) => {
          const [attestation] = mods.provenanceAttestations(maxMode, this.#attested(part));
          return { ...(part.id === undefined ? {} : { id: part.id }), predicate: () => mods.predicateJSON(attestation!.predicate()) };
        }),
    );
  }

  /** What a result's provenance is made of. */
  #attested({ solved, sources }: AttestedPart) {
    return {
      sources: this.#deps.capture(solved, sources),
      def: solved.def,
      definition: solved.definition,
      origin: this.#request.origin,
      locals: sources.flatMap((s) => (s.type === "local" ? [s.name] : [])),
    };
  }

  /** The attestations a gateway client returned for one platform or, for a single result, all of them. */
  #returnedFor(id: string | undefined): readonly ResultAttestation[] {
    const returned = this.#request.returnedAttestations ?? {};
    return id === undefined ? Object.values(returned).flat() : (returned[id] ?? []);
  }

  /** The SBOM statements of one result (none for scratch, or without attest:sbom). */
  async #scanned(name: string, solved: AttestedSolve, extras: SBOMExtras | undefined): Promise<ResultAttestation[]> {
    return this.#scanner && solved.ref ? this.#scanner.scan({ name, definition: solved.definition, ...(extras ? { extras } : {}) }) : [];
  }
}

/** BuildKit's SBOM processor leaves alone a result that already has an SBOM (one its frontend made). */
const hasSBOM = (atts: readonly ResultAttestation[]) => atts.some((a) => a.predicateType.startsWith("https://spdx.dev/Document"));

async function provenanceModules(request: AttestationRequest): Promise<ProvenanceModules | undefined> {
  if (!request.provenance && !request.history) return undefined;
  const [{ provenanceAttestations }, { predicateJSON }, { historyProvenanceRequest }] = await Promise.all([
    import("../provenance/result-attestations.ts"),
    import("../provenance/predicate.ts"),
    import("../provenance/attestations.ts"),
  ]);
  return { provenanceAttestations, predicateJSON, historyProvenanceRequest };
}

/** The SBOM scanner of a build with attest:sbom (its image's config resolved once); undefined without. */
async function sbomScanner(request: AttestationRequest, deps: AttestationDeps, signal: AbortSignal): Promise<SBOMScanner | undefined> {
  if (!request.sbom) return undefined;
  const [{ createSBOMScanner }, { resolveImageForConfig }] = await Promise.all([import("../sbom/scan.ts"), import("../sources/image/resolve-mode.ts")]);
  const where = { registry: deps.registry, content: deps.worker.content, root: deps.worker.root };
  return createSBOMScanner(request.sbom, {
    resolveConfig: async (ref) => {
      const { image } = await resolveImageForConfig(ref, hostPlatform(), "default", where, signal);
      return { config: image.config.config, digest: image.indexDigest ?? image.digest };
    },
    solveAndRead: deps.solveAndRead,
  });
}
