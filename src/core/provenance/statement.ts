/**
 * In-toto statements (v0.1) around an attestation's predicate, as BuildKit v0.11's
 * exporter/attestation MakeInTotoStatements makes them: `_type`, `predicateType`, `subject`
 * (the exported artifacts: an image manifest, or each file of a local export), `predicate`.
 * Image exporters store them compact (json.Marshal, the predicate's indentation compacted with
 * it); local exporters write them indented (json.MarshalIndent).
 */
import { goJSON, goJSONIndent } from "../go-json.ts";

export const IN_TOTO_STATEMENT_V01 = "https://in-toto.io/Statement/v0.1";

export interface InTotoSubject {
  readonly name: string;
  /** A DigestSet: algorithm → hex. */
  readonly digest: Readonly<Record<string, string>>;
}

export interface InTotoStatement {
  readonly _type: string;
  readonly predicateType: string;
  readonly subject: readonly InTotoSubject[];
  readonly predicate: unknown;
}

/** "sha256:abc" as a subject's digest set. */
export function subjectDigest(digest: string): Record<string, string> {
  const colon = digest.indexOf(":");
  return { [digest.slice(0, colon)]: digest.slice(colon + 1) };
}

export function inTotoStatement(predicateType: string, predicate: unknown, subjects: readonly InTotoSubject[]): InTotoStatement {
  return { _type: IN_TOTO_STATEMENT_V01, predicateType, subject: subjects.map((s) => ({ name: s.name, digest: s.digest })), predicate };
}

/** json.Marshal(statement) */
export const statementJSON = (s: InTotoStatement): string => goJSON(s);
/** json.MarshalIndent(statement, "", "  ") */
export const statementJSONIndent = (s: InTotoStatement): string => goJSONIndent(s);
