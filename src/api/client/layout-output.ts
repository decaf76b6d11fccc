/**
 * `--output type=oci|docker,dest=DIR,tar=false` of a remote build, as buildctl does it: DIR
 * (created if missing) is served as the session's "export" content store, the daemon puts the
 * image's blobs there, and the client then tags the image's descriptor (the response's
 * containerimage.descriptor) in DIR/index.json under the image's name, else "latest".
 */
import { mkdirSync } from "node:fs";
import { BuildkitError, withContext } from "../../core/errors.ts";
import type { Descriptor } from "../../core/image/oci-types.ts";
import { tagInLayout } from "../../core/image/layout-dir.ts";
import { LocalContentStore } from "../session/content/local-store.ts";

/** The store id BuildKit's oci exporter writes to. */
export const EXPORT_STORE = "export";

export function layoutStore(dir: string): LocalContentStore {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw withContext(`--output tar=false: creating ${dir}`, err);
  }
  return new LocalContentStore(dir);
}

export async function tagExportedImage(dir: string, response: Readonly<Record<string, string>>): Promise<void> {
  const encoded = response["containerimage.descriptor"];
  if (!encoded) throw new BuildkitError("Internal", `the daemon answered no containerimage.descriptor for the image written to ${dir}`);
  let desc: Descriptor;
  try {
    desc = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as Descriptor;
  } catch (err) {
    throw new BuildkitError("Internal", `the daemon's containerimage.descriptor is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    await tagInLayout(dir, response["image.name"] || "latest", desc);
  } catch (err) {
    throw withContext(`tagging the image in ${dir}/index.json`, err);
  }
}
