/**
 * An SBOM bundle (the scan's output directory) as the attestations exporters write, as BuildKit
 * v0.11's exporter/attestation Unbundle does: every entry of the directory, in name order, is
 * an in-toto statement; each becomes an attestation named after its file, with the statement's
 * predicate type (which must be the bundle's), its subjects (none: the exported artifact is
 * the subject) and its predicate re-encoded as Go re-encodes a decoded interface{} (map keys
 * sorted). The core SBOM ("sbom.*") goes first.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BuildkitError } from "../errors.ts";
import type { ResultAttestation } from "../exporters/exporter.ts";
import type { InTotoSubject } from "../provenance/statement.ts";
import { CORE_SBOM_NAME } from "./scanner.ts";

export const SPDX_PREDICATE_TYPE = "https://spdx.dev/Document";

/** The statements in dir (the mounted bundle); throws with the file's name when one is not a statement or has another predicate type. */
export function unbundleSBOM(dir: string, predicateType: string = SPDX_PREDICATE_TYPE): ResultAttestation[] {
  const names = readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const atts = names.map((name) => statementAttestation(name, readEntry(join(dir, name), name), predicateType));
  const isCore = (a: ResultAttestation) => a.path.split(".")[0] === CORE_SBOM_NAME;
  return [...atts.filter(isCore), ...atts.filter((a) => !isCore(a))];
}

function readEntry(path: string, name: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new BuildkitError("InvalidArgument", `cannot decode in-toto statement ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function statementAttestation(name: string, stmt: unknown, required: string): ResultAttestation {
  if (!isObject(stmt)) throw new BuildkitError("InvalidArgument", `cannot decode in-toto statement ${name}: not a JSON object`);
  const type = typeof stmt.predicateType === "string" ? stmt.predicateType : "";
  if (required !== "" && type !== required) throw new BuildkitError("InvalidArgument", `bundle entry ${type} does not match required predicate type ${required}`);
  const subjects = Array.isArray(stmt.subject) ? stmt.subject.map(rawSubject) : [];
  const predicate = goDecoded(stmt.predicate ?? null);
  return { predicateType: type, path: name, inlineOnly: false, subjects, predicate: () => predicate };
}

/** A statement's subject as BuildKit keeps it (kind raw): an empty name becomes "_", its digests sorted by algorithm. */
function rawSubject(s: unknown): InTotoSubject {
  const o = isObject(s) ? s : {};
  const digest = isObject(o.digest) ? o.digest : {};
  return {
    name: typeof o.name === "string" && o.name !== "" ? o.name : "_",
    digest: Object.fromEntries(Object.keys(digest).sort().map((k) => [k, String(digest[k])])),
  };
}

/** A JSON value with every object's keys sorted, as Go's json.Marshal writes a map[string]interface{}. */
export function goDecoded(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(goDecoded);
  if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, goDecoded(v[k])]));
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
