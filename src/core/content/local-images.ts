/**
 * The standalone worker's image names: ROOT/images.json maps a full reference to the manifest
 * descriptor whose blobs (manifest, config, layers) are in the content store. It is what
 * BuildKit's containerd worker keeps in containerd's image store; `push=false` writes here.
 * Written to a temporary file and renamed, so a reader never sees half of it.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { statePath } from "../worker/storage.ts";
import { BuildkitError } from "../errors.ts";
import type { Descriptor } from "../image/oci-types.ts";

export interface LocalImage {
  readonly target: Descriptor;
  readonly created: string;
}

export interface ImagesFile {
  readonly images: Record<string, LocalImage>;
}

export function imagesPath(root: string): string {
  return statePath(root, "images");
}

export async function readImages(root: string): Promise<ImagesFile> {
  const text = await readFile(imagesPath(root), "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (text === undefined) return { images: {} };
  try {
    const parsed = JSON.parse(text) as Partial<ImagesFile>;
    return { images: parsed.images ?? {} };
  } catch (err) {
    throw new BuildkitError("Internal", `reading ${imagesPath(root)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Names target `name` (replacing an earlier image of that name). */
export async function storeImage(root: string, name: string, target: Descriptor): Promise<void> {
  const file = await readImages(root);
  const images = { ...file.images, [name]: { target, created: new Date().toISOString() } };
  const path = imagesPath(root);
  const temp = `${path}.tmp-${process.pid}-${crypto.randomUUID()}`;
  try {
    await writeFile(temp, `${JSON.stringify({ images }, null, 2)}\n`);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw new BuildkitError("Internal", `naming image ${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
