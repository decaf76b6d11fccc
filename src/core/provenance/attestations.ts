/**
 * The attestations a build asks for in its frontend attributes, read as BuildKit v0.11's
 * controller does (frontend/attestations Parse): `attest:TYPE=CSV` or
 * `build-arg:BUILDKIT_ATTEST_TYPE=CSV`, TYPE lower-cased, the value one CSV record of key=value
 * fields (a field without "=" has an empty value). Only "provenance" and "sbom" are known; any
 * other type fails the build. `sbom` gets its generator (the scanner image) as control.go
 * checks it: docker/buildkit-syft-scanner:stable-1 when not given, an error when given empty.
 */
import { randomBytes } from "node:crypto";
import { BuildkitError } from "../errors.ts";
import { readGoCsvRecord } from "../go-csv.ts";
import { normalizeImageRef } from "../reference/docker-ref.ts";
import { provenanceOptions, type ProvenanceOptions } from "./predicate.ts";

/** `attest:provenance` as a build carries it to its export. */
export interface ProvenanceRequest {
  /** Its attributes: mode, builder-id, reproducible, filename, inline-only. */
  readonly attrs: Readonly<Record<string, string>>;
  readonly options: ProvenanceOptions;
  /** When the build started (ms since the epoch): the request's arrival, as BuildKit's job start. */
  readonly startedOn: number;
  /** The build's invocation ID (BuildKit's job UniqueID, identity.NewID's form). */
  readonly invocationID: string;
}

/** `attest:sbom` as the controller's SBOM processor takes it. */
export interface SBOMRequest {
  /** The scanner image, normalised with a tag (reference.TagNameOnly): "docker.io/docker/buildkit-syft-scanner:stable-1". */
  readonly generator: string;
  /** False when the build asked for no-cache for every stage (`no-cache` with an empty value): the scans then ignore the cache. */
  readonly useCache: boolean;
}

export interface AttestationRequest {
  readonly provenance?: ProvenanceRequest;
  readonly sbom?: SBOMRequest;
}

/** frontend/attestations' default scanner. */
export const DEFAULT_SBOM_GENERATOR = "docker/buildkit-syft-scanner:stable-1";

const PREFIXES = ["attest:", "build-arg:BUILDKIT_ATTEST_"];

/** The attestations the attributes ask for; throws InvalidArgument for an unknown type, an unparsable value or a bad SBOM generator. */
export function parseAttestations(frontendAttrs: Readonly<Record<string, string>>): AttestationRequest {
  const asked = new Map<string, string>();
  for (const [k, v] of Object.entries(frontendAttrs)) {
    const prefix = PREFIXES.find((p) => k.startsWith(p));
    if (prefix !== undefined) asked.set(k.slice(prefix.length).toLowerCase(), v);
  }
  const parsed = new Map<string, Record<string, string>>();
  for (const [type, value] of asked) {
    const attrs: Record<string, string> = type === "sbom" ? { generator: DEFAULT_SBOM_GENERATOR } : {};
    if (value !== "") {
      let fields: string[];
      try {
        fields = readGoCsvRecord(value);
      } catch (err) {
        throw new BuildkitError("InvalidArgument", `failed to parse ${type}: ${err instanceof Error ? err.message : String(err)}`);
      }
      for (const field of fields) {
        const eq = field.indexOf("=");
        if (eq < 0) attrs[field] = "";
        else attrs[field.slice(0, eq)] = field.slice(eq + 1);
      }
    }
    parsed.set(type, attrs);
  }
  for (const type of parsed.keys()) {
    if (type !== "provenance" && type !== "sbom") throw new BuildkitError("InvalidArgument", `unknown attestation type ${JSON.stringify(type)}`);
  }
  const sbomAttrs = parsed.get("sbom");
  const sbom = sbomAttrs === undefined ? {} : { sbom: sbomRequest(sbomAttrs, frontendAttrs) };
  const attrs = parsed.get("provenance");
  if (attrs === undefined) return sbom;
  return { ...sbom, provenance: { attrs, options: provenanceOptions(attrs), startedOn: Date.now(), invocationID: newID() } };
}

/** control.go: the generator must be a non-empty image reference; no-cache="" (every stage) scans without the cache. */
function sbomRequest(attrs: Readonly<Record<string, string>>, frontendAttrs: Readonly<Record<string, string>>): SBOMRequest {
  const src = attrs.generator ?? "";
  if (src === "") throw new BuildkitError("InvalidArgument", "sbom generator cannot be empty");
  let generator: string;
  try {
    generator = normalizeImageRef(src);
  } catch (err) {
    throw new BuildkitError("InvalidArgument", `failed to parse sbom generator ${src}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { generator, useCache: frontendAttrs["no-cache"] !== "" };
}

/** 25 base-36 digits of 136 random bits, as BuildKit's identity.NewID. */
export function newID(): string {
  const bytes = randomBytes(17);
  bytes[0]! |= 0x80;
  return BigInt(`0x${bytes.toString("hex")}`).toString(36).slice(1, 26);
}

/**
 * The daemon's build history: it keeps a mode=max provenance predicate of every result of every
 * build, as BuildKit v0.11 records one whether or not the build asked for attestations.
 */
export interface HistoryProvenance {
  /** When the build started (ms since the epoch) and its invocation ID, as the record has them. */
  readonly startedOn: number;
  readonly invocationID: string;
  /** Told each result's predicate (JSON, made when called); id: the platform's, for several. */
  take(results: readonly { readonly id?: string; predicate(): Uint8Array }[]): void;
}

/** The provenance request a history record's predicate is made with (mode=max). */
export function historyProvenanceRequest(h: HistoryProvenance): ProvenanceRequest {
  const attrs = { mode: "max" };
  return { attrs, options: provenanceOptions(attrs), startedOn: h.startedOn, invocationID: h.invocationID };
}
