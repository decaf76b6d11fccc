/**
 * The attestations the provenance processor adds to one result (BuildKit v0.11's
 * proc.ProvenanceProcessor): one in-toto attestation whose predicate is made when the exporter
 * asks for it, so buildFinishedOn is the export's time as in BuildKit.
 */
import { parseGoBool } from "../go-bool.ts";
import type { LoadedDefinition } from "../llb/definition.ts";
import { hostPlatform } from "../llb/platform.ts";
import type { ResultAttestation } from "../exporters/exporter.ts";
import type { ProvenanceRequest } from "./attestations.ts";
import type { BuildOrigin } from "./build-info.ts";
import type { SourceCapture } from "./capture.ts";
import { compare } from "./capture.ts";
import { captureGraph } from "./graph-capture.ts";
import { provenancePredicate, SLSA_PROVENANCE_V02 } from "./predicate.ts";

export interface AttestedResult {
  /** The result's sources and what the build resolved besides, finished. */
  readonly sources: SourceCapture;
  readonly def: LoadedDefinition;
  /** The definition's bytes (mode=max's buildConfig). */
  readonly definition: Uint8Array;
  readonly origin: BuildOrigin | undefined;
  /** Client directories the build read besides the result's own graph. */
  readonly locals: readonly string[];
}

export function provenanceAttestations(request: ProvenanceRequest | undefined, result: AttestedResult): ResultAttestation[] {
  if (request === undefined) return [];
  const graph = captureGraph(result.def);
  // Directories read by the build's other solves (a frontend reading the Dockerfile): BuildKit's capture merges them.
  for (const name of result.locals) if (!graph.locals.includes(name)) graph.locals.push(name);
  graph.locals.sort(compare);
  return [
    {
      predicateType: SLSA_PROVENANCE_V02,
      path: request.attrs.filename ?? "provenance.json",
      // strconv.ParseBool: an empty value is an error there, so false (not parseGoBool's "key alone").
      inlineOnly: (request.attrs["inline-only"] ?? "") !== "" && parseGoBool(request.attrs["inline-only"] ?? "") === true,
      predicate: () =>
        provenancePredicate({
          sources: result.sources,
          graph,
          origin: result.origin,
          options: request.options,
          startedOn: request.startedOn,
          finishedOn: Date.now(),
          invocationID: request.invocationID,
          hostPlatform: hostPlatform(),
          definition: result.definition,
        }),
    },
  ];
}
