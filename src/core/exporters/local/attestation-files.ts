/**
 * The statement files a local or tar export writes beside the result's files, as BuildKit
 * v0.11's exporter/local CreateFS: one per attestation, named PREFIX + the attestation's path
 * (provenance.json), mode 0600, holding the indented in-toto statement whose subjects are
 * every regular file of the result (relative path, sha256), in walk order.
 */
import { createHash } from "node:crypto";
import { createReadStream, lstatSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { BuildkitError } from "../../errors.ts";
import { inTotoStatement, statementJSONIndent, subjectDigest, type InTotoSubject } from "../../provenance/statement.ts";
import { exportedAttestations, type BuildResult } from "../exporter.ts";

export interface AttestationFile {
  readonly name: string;
  readonly data: Uint8Array;
}

/** The statement files for a result mounted at dir; none when it has no attestations (inline-only ones are not for local exports). */
export async function attestationFiles(result: BuildResult, dir: string, prefix: string): Promise<AttestationFile[]> {
  const atts = exportedAttestations(result, { forceInline: false });
  if (atts.length === 0) return [];
  const subjects = await fileSubjects(dir);
  const seen = new Set<string>();
  return atts.map((att) => {
    const name = prefix + basename(att.path);
    if (seen.has(name)) throw new BuildkitError("InvalidArgument", `duplicate attestation path name ${name}`);
    seen.add(name);
    return { name, data: new TextEncoder().encode(statementJSONIndent(inTotoStatement(att.predicateType, att.predicate(), att.subjects?.length ? att.subjects : subjects))) };
  });
}

/** Every regular file under dir, depth first with names in byte order (fsutil's walk), and its digest. */
async function fileSubjects(dir: string): Promise<InTotoSubject[]> {
  const out: InTotoSubject[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = readdirSync(join(dir, rel)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const path = rel === "" ? name : `${rel}/${name}`;
      const st = lstatSync(join(dir, path));
      if (st.isDirectory()) await walk(path);
      else if (st.isFile()) out.push({ name: path, digest: subjectDigest(`sha256:${await sha256File(join(dir, path))}`) });
    }
  };
  await walk("");
  return out;
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}
