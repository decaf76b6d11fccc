/**
 * The SLSA v0.2 provenance predicate, as BuildKit v0.11 makes it (solver/llbsolver/provenance
 * NewPredicate, then NewProvenanceCreator for the mode and the job's times). Objects are built
 * in the Go structs' field order, with omitempty applied as encoding/json does: builder,
 * buildType, materials (the embedded slsa02 fields first), then invocation, buildConfig and
 * metadata; a struct field is never omitted, even empty.
 */
import { BuildkitError } from "../errors.ts";
import { parseGoBool } from "../go-bool.ts";
import { goJSONIndent, goSorted } from "../go-json.ts";
import { rfc3339 } from "../go-time.ts";
import { formatPlatform, normalizePlatform, type Platform } from "../llb/platform.ts";
import { redactCredentials } from "../sources/redact-url.ts";
import type { BuildOrigin } from "./build-info.ts";
import { buildConfigOf } from "./build-config.ts";
import type { SourceCapture } from "./capture.ts";
import type { GraphCapture } from "./graph-capture.ts";
import { refToPurl } from "./purl.ts";

export const BUILDKIT_BUILD_TYPE = "https://mobyproject.org/buildkit@v1";
export const SLSA_PROVENANCE_V02 = "https://slsa.dev/provenance/v0.2";

export type ProvenanceMode = "min" | "max";

/** `attest:provenance` attributes, checked (NewProvenanceCreator's errors). */
export interface ProvenanceOptions {
  readonly mode: ProvenanceMode;
  readonly builderID: string;
  readonly reproducible: boolean;
}

export function provenanceOptions(attrs: Readonly<Record<string, string>>): ProvenanceOptions {
  let reproducible = false;
  if (attrs.reproducible !== undefined) {
    // strconv.ParseBool: unlike parseGoBool, an empty value is an error.
    const b = attrs.reproducible === "" ? undefined : parseGoBool(attrs.reproducible);
    if (b === undefined) throw new BuildkitError("InvalidArgument", `failed to parse reproducible flag ${JSON.stringify(attrs.reproducible)}`);
    reproducible = b;
  }
  let mode: ProvenanceMode = "max";
  if (attrs.mode !== undefined) {
    if (attrs.mode === "full" || attrs.mode === "max") mode = "max";
    else if (attrs.mode === "min") mode = "min";
    else throw new BuildkitError("InvalidArgument", `invalid mode ${JSON.stringify(attrs.mode)}`);
  }
  return { mode, builderID: attrs["builder-id"] ?? "", reproducible };
}

export interface PredicateInputs {
  /** The result's pinned sources, finished (deduplicated, sorted). */
  readonly sources: SourceCapture;
  readonly graph: GraphCapture;
  /** The frontend and its recorded (filtered) attributes; none for a plain definition. */
  readonly origin: BuildOrigin | undefined;
  readonly options: ProvenanceOptions;
  /** The build's start, its end (ms since the epoch), and the job's ID. */
  readonly startedOn: number;
  readonly finishedOn: number;
  readonly invocationID: string;
  /** The daemon's own platform (invocation.environment). */
  readonly hostPlatform: Platform;
  /** The result's definition, for mode=max's buildConfig; undefined for a scratch result. */
  readonly definition?: Uint8Array;
}

type Digests = Record<string, string>;
interface Material {
  readonly uri: string;
  readonly digest: Digests;
}

/** "sha256:abc" → {sha256: "abc"} (slsa DigestSet). */
function digestSet(digest: string): Digests {
  const colon = digest.indexOf(":");
  return { [digest.slice(0, colon)]: digest.slice(colon + 1) };
}

function materials(s: SourceCapture): Material[] {
  return [
    ...s.images.map((i) => ({ uri: refToPurl(i.ref, i.platform), digest: digestSet(i.digest) })),
    ...s.git.map((g) => ({ uri: g.url, digest: { sha1: g.commit } })),
    ...s.http.map((h) => ({ uri: h.url, digest: digestSet(h.digest) })),
    // The reference as it is, not a purl (BuildKit makes one and drops it).
    ...s.localImages.map((i) => ({ uri: i.ref, digest: digestSet(i.digest) })),
  ];
}

/** The predicate as a JSON-ready object in Go's field order. */
export function provenancePredicate(inp: PredicateInputs): Record<string, unknown> {
  const { sources, graph, options } = inp;
  const args: Record<string, string> = { ...(inp.origin?.args ?? {}) };
  const frontend = inp.origin?.frontend ?? "";

  const configSource: { uri?: string; digest?: Digests; entryPoint?: string } = {};
  const contextKey = args.contextkey || "context";
  const context = args[contextKey];
  if (context) {
    const found = [...sources.git.map((g) => ({ uri: g.url, digest: { sha1: g.commit } })), ...sources.http.map((h) => ({ uri: h.url, digest: digestSet(h.digest) }))].find((m) => m.uri === context);
    configSource.uri = redactCredentials(found?.uri ?? context);
    if (found) configSource.digest = found.digest;
    delete args[contextKey];
  }
  if (args.filename) {
    configSource.entryPoint = args.filename;
    delete args.filename;
  }
  const vcs: Record<string, string> = {};
  for (const [k, v] of Object.entries(args)) {
    if (!k.startsWith("vcs:")) continue;
    delete args[k];
    const value = k === "vcs:source" ? redactCredentials(v) : v;
    if (value !== "") vcs[k.slice("vcs:".length)] = value;
  }

  let parametersComplete = frontend !== "";
  let secrets: readonly { id: string; optional: boolean }[] = graph.secrets;
  let ssh: readonly { id: string; optional: boolean }[] = graph.ssh;
  if (options.mode === "min") {
    for (const k of Object.keys(args)) {
      if (k.startsWith("build-arg:") || k.startsWith("label:")) {
        parametersComplete = false;
        delete args[k];
      }
    }
    secrets = [];
    ssh = [];
  }
  const incomplete = graph.incompleteMaterials || graph.locals.length > 0;
  const hasArgs = Object.keys(args).length > 0;
  const idList = (list: readonly { id: string; optional: boolean }[]) => list.map((s) => ({ id: s.id, ...(s.optional ? { optional: true } : {}) }));

  const parameters = {
    ...(frontend ? { frontend } : {}),
    ...(hasArgs ? { args: goSorted(args) } : {}),
    ...(secrets.length > 0 ? { secrets: idList(secrets) } : {}),
    ...(ssh.length > 0 ? { ssh: idList(ssh) } : {}),
    ...(graph.locals.length > 0 ? { locals: graph.locals.map((name) => ({ name })) } : {}),
  };
  const invocation = {
    configSource: {
      ...(configSource.uri ? { uri: configSource.uri } : {}),
      ...(configSource.digest ? { digest: goSorted(configSource.digest) } : {}),
      ...(configSource.entryPoint ? { entryPoint: configSource.entryPoint } : {}),
    },
    parameters,
    environment: { platform: formatPlatform(normalizePlatform(inp.hostPlatform)) },
  };

  let buildConfig: unknown;
  let sourceMeta: unknown;
  if (options.mode === "max") {
    const made = inp.definition ? buildConfigOf(inp.definition) : { config: {} };
    buildConfig = made.config;
    sourceMeta = made.source;
  }
  const buildkitMetadata = {
    ...(Object.keys(vcs).length > 0 ? { vcs: goSorted(vcs) } : {}),
    ...(sourceMeta !== undefined ? { source: sourceMeta } : {}),
  };
  const mats = materials(sources);
  return {
    builder: { id: options.builderID },
    buildType: BUILDKIT_BUILD_TYPE,
    ...(mats.length > 0 ? { materials: mats } : {}),
    invocation,
    ...(buildConfig !== undefined ? { buildConfig } : {}),
    metadata: {
      ...(inp.invocationID ? { buildInvocationID: inp.invocationID } : {}),
      buildStartedOn: rfc3339(inp.startedOn),
      buildFinishedOn: rfc3339(inp.finishedOn),
      completeness: { parameters: parametersComplete, environment: true, materials: !incomplete },
      reproducible: options.reproducible,
      "https://mobyproject.org/buildkit@v1#metadata": buildkitMetadata,
      ...(!incomplete && !graph.networkAccess ? { "https://mobyproject.org/buildkit@v1#hermetic": true } : {}),
    },
  };
}

/** The predicate's bytes as the attestation's content (json.MarshalIndent(pr, "", "  ")). */
export function predicateJSON(predicate: unknown): Uint8Array {
  return new TextEncoder().encode(goJSONIndent(predicate));
}
