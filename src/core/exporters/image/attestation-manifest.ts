/**
 * A platform's attestation manifest, as BuildKit v0.11's image writer commits it
 * (commitAttestationsManifest): each in-toto statement a layer (application/vnd.in-toto+json,
 * annotated with its predicate type), a config for platform unknown/unknown whose diff IDs are
 * the statements' digests, and a manifest the index lists with platform unknown/unknown and
 * the annotations that tie it to the image manifest it describes.
 */
import { putBlob } from "../../content/blobs.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import { sha256 } from "../../digest.ts";
import { goJSON, goJSONIndent } from "../../go-json.ts";
import type { Descriptor } from "../../image/oci-types.ts";
import { refToPurl } from "../../provenance/purl.ts";
import { inTotoStatement, statementJSON, subjectDigest, type InTotoSubject } from "../../provenance/statement.ts";
import { formatImageRef, type ImageRef } from "../../reference/docker-ref.ts";
import type { Platform } from "../../llb/platform.ts";
import type { ResultAttestation } from "../exporter.ts";
import type { BuiltImage } from "./build-image.ts";
import { goDescriptor } from "./build-image.ts";
import { mediaTypes } from "./image-config.ts";

export const IN_TOTO_MEDIA_TYPE = "application/vnd.in-toto+json";
export const REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type";
export const REFERENCE_DIGEST_ANNOTATION = "vnd.docker.reference.digest";
export const ATTESTATION_MANIFEST_TYPE = "attestation-manifest";
const UNKNOWN_PLATFORM: Platform = { os: "unknown", architecture: "unknown" };

const encoder = new TextEncoder();

/** The statements' subjects: each image name as a package URL for the platform, with the image manifest's digest. */
export function imageSubjects(names: readonly ImageRef[], platform: Platform, manifest: Descriptor): InTotoSubject[] {
  return names.map((n) => ({ name: refToPurl(formatImageRef(n), platform), digest: subjectDigest(manifest.digest) }));
}

/** Writes the statements, config and manifest for one image; the manifest's descriptor as the index lists it. */
export async function commitAttestationManifest(
  store: ContentStore,
  image: BuiltImage,
  attestations: readonly ResultAttestation[],
  opts: { names: readonly ImageRef[]; oci: boolean; step: <T>(name: string, work: () => Promise<T>) => Promise<T> },
): Promise<BuiltImage> {
  const subjects = imageSubjects(opts.names, image.platform, image.manifest);
  const layers: Descriptor[] = [];
  for (const att of attestations) {
    const bytes = encoder.encode(statementJSON(inTotoStatement(att.predicateType, att.predicate(), att.subjects?.length ? att.subjects : subjects)));
    const desc = await putBlob(store, IN_TOTO_MEDIA_TYPE, bytes);
    // containerd.io/uncompressed is internal and dropped from the manifest; Docker media types keep no annotations at all.
    layers.push(opts.oci ? { ...desc, annotations: { "in-toto.io/predicate-type": att.predicateType } } : desc);
  }
  const types = mediaTypes(opts.oci);
  const configBytes = encoder.encode(goJSON({ architecture: "unknown", os: "unknown", config: {}, rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) } }));
  const configDesc: Descriptor = { mediaType: types.config, digest: sha256(configBytes), size: configBytes.byteLength };
  const manifestBytes = encoder.encode(goJSONIndent({ mediaType: types.manifest, schemaVersion: 2, config: goDescriptor(configDesc), layers: layers.map(goDescriptor) }));
  const manifest = await opts.step(`exporting attestation manifest ${sha256(manifestBytes)}`, async () => {
    const m = await putBlob(store, types.manifest, manifestBytes);
    await putBlob(store, types.config, configBytes);
    return m;
  });
  const annotations = { [REFERENCE_TYPE_ANNOTATION]: ATTESTATION_MANIFEST_TYPE, [REFERENCE_DIGEST_ANNOTATION]: image.manifest.digest };
  const descriptor = goDescriptor({ ...manifest, annotations, platform: { architecture: UNKNOWN_PLATFORM.architecture, os: UNKNOWN_PLATFORM.os } });
  return { manifest: descriptor, config: configDesc, layers, diffIDs: layers.map((l) => l.digest), reused: 0, platform: UNKNOWN_PLATFORM };
}
