/**
 * Attestations a gateway client returns with its result (Result.attestations, by platform ID),
 * made into the attestations exporters write, as BuildKit v0.11 reads them (exporter/attestation
 * ReadAll, Unbundle): an in-toto one's predicate is the file at its path in the result it names
 * (raw subjects kept; self subjects: the exported artifact), a bundle's statements are the files
 * of the directory at its path.
 */
import { readFile } from "node:fs/promises";
import type { Engine } from "../../core/engine/index.ts";
import { BuildkitError, withContext } from "../../core/errors.ts";
import type { ResultAttestation } from "../../core/exporters/exporter.ts";
import { resolveInRoot } from "../../core/fs/safe-path.ts";
import type { InTotoSubject } from "../../core/provenance/statement.ts";
import { unbundleSBOM } from "../../core/sbom/unbundle.ts";
import type { apiPb } from "../pb/index.ts";
import type { GatewayBuild } from "./gateway-build.ts";

type PbAttestations = Readonly<Record<string, apiPb.moby.buildkit.v1.frontend.Attestations.$Properties>>;
type PbAttestation = apiPb.moby.buildkit.v1.frontend.Attestation.$Properties;

const KIND_BUNDLE = 1;
const SUBJECT_RAW = 1;

/** Each platform's returned attestations, ready to export; empty when there are none. */
export async function returnedAttestations(pb: PbAttestations | null | undefined, gw: GatewayBuild, engine: Engine): Promise<Record<string, ResultAttestation[]>> {
  const out: Record<string, ResultAttestation[]> = {};
  for (const [platform, list] of Object.entries(pb ?? {})) {
    const made: ResultAttestation[] = [];
    for (const att of list.attestation ?? []) made.push(...(await attestation(att, gw, engine)));
    if (made.length > 0) out[platform] = made;
  }
  return out;
}

async function attestation(att: PbAttestation, gw: GatewayBuild, engine: Engine): Promise<ResultAttestation[]> {
  const path = att.path ?? "";
  const predicateType = att.inTotoPredicateType ?? "";
  const inlineOnly = new TextDecoder().decode(att.metadata?.["inline-only"] ?? new Uint8Array()) === "true";
  const solved = gw.result(att.ref?.id ?? "");
  try {
    return await engine.withResult(solved?.ref, async (dir) => {
      const at = await resolveInRoot(dir, path);
      if (att.kind === KIND_BUNDLE) return unbundleSBOM(at, predicateType).map((a) => ({ ...a, inlineOnly }));
      const content = await readFile(at);
      const predicate: unknown = content.byteLength === 0 ? null : JSON.parse(content.toString("utf8"));
      const subjects = rawSubjects(att.inTotoSubjects ?? []);
      return [{ predicateType, path, inlineOnly, ...(subjects ? { subjects } : {}), predicate: () => predicate }];
    });
  } catch (err) {
    if (err instanceof SyntaxError) throw new BuildkitError("InvalidArgument", `returned attestation ${path}: not JSON: ${err.message}`);
    throw withContext(`reading the returned attestation ${path}`, err);
  }
}

/**
 * Raw subjects as BuildKit names them ("_" for none; digests "ALG:HEX"); undefined when any is
 * "self" (the exported artifact: we do not mix the two, which BuildKit would).
 */
function rawSubjects(list: readonly apiPb.moby.buildkit.v1.frontend.InTotoSubject.$Properties[]): InTotoSubject[] | undefined {
  if (list.length === 0 || list.some((s) => (s.kind ?? 0) !== SUBJECT_RAW)) return undefined;
  return list.map((s) => ({
    name: s.name || "_",
    digest: Object.fromEntries((s.digest ?? []).map((d) => [d.slice(0, d.indexOf(":")), d.slice(d.indexOf(":") + 1)])),
  }));
}
