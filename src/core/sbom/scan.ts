/**
 * The controller's SBOM processor (BuildKit v0.11's proc.SBOMProcessor): the scanner image's
 * config resolved once per build, then each result (each platform's; none for scratch) scanned
 * by solving the scan on the result's own definition, and the scan's statements read back as
 * the result's attestations.
 */
import { BuildkitError, withContext } from "../errors.ts";
import type { ResultAttestation } from "../exporters/exporter.ts";
import type { ContainerConfig } from "../image/oci-types.ts";
import { definitionState } from "../llb/definition-state.ts";
import type { SBOMExtras } from "../frontends/frontend.ts";
import type { SBOMRequest } from "../provenance/attestations.ts";
import type { SourceProvenance } from "../provenance/capture.ts";
import { scanState, type ScannerImage } from "./scanner.ts";
import { unbundleSBOM } from "./unbundle.ts";

export interface ScanDeps {
  /** The scanner image's config (BuildKit's ResolveImageConfig for the host platform) and the digest its reference resolved to. */
  resolveConfig(ref: string): Promise<{ readonly config: ContainerConfig | undefined; readonly digest: string }>;
  /** Solves a definition and runs fn on its result mounted read-only, then lets it go. */
  solveAndRead<T>(definition: Uint8Array, fn: (dir: string) => Promise<T> | T): Promise<T>;
}

/** One result to scan: its platform ID and definition, and definitions to attach beside it. */
export interface ScanSubject {
  readonly name: string;
  readonly definition: Uint8Array;
  readonly extras?: SBOMExtras;
}

export interface SBOMScanner {
  /**
   * The scanner image as a source the build resolved: BuildKit's bridge records the resolution
   * (with no platform, as CreateSBOMScanner asks for none), so provenance lists it.
   */
  readonly source: SourceProvenance;
  /** The result's SBOM statements as attestations (core SBOM first). */
  scan(subject: ScanSubject): Promise<ResultAttestation[]>;
}

/** Resolves the generator's config; fails with the generator's name when it cannot be resolved. */
export async function createSBOMScanner(request: SBOMRequest, deps: ScanDeps): Promise<SBOMScanner> {
  let resolved: { readonly config: ContainerConfig | undefined; readonly digest: string };
  try {
    resolved = await deps.resolveConfig(request.generator);
  } catch (err) {
    // A registry that cannot be reached is not our fault: Unavailable, unless the error says otherwise.
    throw withContext(`resolving SBOM scanner image ${request.generator}`, err instanceof BuildkitError ? err : new BuildkitError("Unavailable", err instanceof Error ? err.message : String(err), { cause: err }));
  }
  const image: ScannerImage = { ref: request.generator, config: resolved.config };
  return {
    source: { type: "docker-image", ref: request.generator, digest: resolved.digest },
    async scan(subject) {
      const extras = new Map(Object.entries(subject.extras ?? {}).map(([name, def]) => [name, definitionState(def)]));
      const out = scanState(image, { name: subject.name, core: definitionState(subject.definition), extras, ignoreCache: !request.useCache });
      return deps.solveAndRead(out.marshal(), (dir) => unbundleSBOM(dir));
    },
  };
}

