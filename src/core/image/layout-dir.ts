/**
 * OCI image layout directories (oci-layout, index.json, blobs/sha256/…) as BuildKit's client
 * keeps them (client/ociindex): what index.json tags (org.opencontainers.image.ref.name), and
 * writing a layout whole: the new one is built in a temporary directory beside dest (keeping an
 * existing layout's blobs and other tags) and swapped in by rename, so a reader sees the old
 * layout or the new one, never half of one. Blobs are copied, never hard-linked, so editing the
 * layout cannot touch the worker's content store. Local caches and the oci exporter's tar=false
 * output are such directories.
 */
import { randomUUID } from "node:crypto";
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isDigest } from "../digest.ts";
import type { Digest } from "../digest.ts";
import { BuildkitError } from "../errors.ts";
import { MediaType } from "./oci-types.ts";
import type { Descriptor, ImageIndex } from "./oci-types.ts";
import type { ContentStore } from "../worker/content-store.ts";

const REF_NAME = "org.opencontainers.image.ref.name";
const OCI_LAYOUT = JSON.stringify({ imageLayoutVersion: "1.0.0" });

export function blobPath(dir: string, digest: Digest): string {
  return join(dir, "blobs", "sha256", digest.slice("sha256:".length));
}

/** DIR/index.json; undefined when there is none. */
export async function readLayoutIndex(dir: string): Promise<ImageIndex | undefined> {
  const text = await readFile(join(dir, "index.json"), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const index = JSON.parse(text) as ImageIndex;
    if (!Array.isArray(index.manifests)) throw new Error("no manifests");
    return index;
  } catch (err) {
    throw new BuildkitError("InvalidArgument", `${join(dir, "index.json")}: not an OCI index (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Refuses to replace a directory holding something other than an OCI layout. */
async function checkDest(dest: string): Promise<ImageIndex | undefined> {
  const entries = await readdir(dest).catch(() => undefined);
  if (entries === undefined || entries.length === 0) return undefined;
  const index = await readLayoutIndex(dest);
  if (index === undefined) throw new BuildkitError("FailedPrecondition", "the directory is not empty and is not an OCI image layout");
  return index;
}

/** Copies the blobs of an existing layout into the new one (hard links: both are ours). */
async function keepOldBlobs(oldDir: string, newDir: string): Promise<void> {
  const from = join(oldDir, "blobs", "sha256");
  for (const name of await readdir(from).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    const target = join(newDir, "blobs", "sha256", name);
    await link(join(from, name), target).catch(() => copyFile(join(from, name), target));
  }
}

async function putBlob(dir: string, desc: Descriptor, content: ContentStore): Promise<void> {
  const target = blobPath(dir, desc.digest);
  if ((await stat(target).catch(() => undefined))?.size === desc.size) return;
  await rm(target, { force: true });
  await Bun.write(target, new Response(content.read(desc.digest)));
}

/** A blob of a layout being written: from the content store, or these bytes. */
export interface LayoutBlob {
  readonly desc: Descriptor;
  readonly bytes?: Uint8Array;
}

/** Writes dest as an OCI layout holding blobs (and an existing layout's), top tagged tag. */
export async function writeLayout(dest: string, tag: string, top: Descriptor, blobs: readonly LayoutBlob[], content: ContentStore): Promise<void> {
  const old = await checkDest(dest);
  await mkdir(dirname(dest), { recursive: true });
  const temp = join(dirname(dest), `.${basename(dest)}.tmp-${randomUUID()}`);
  try {
    await mkdir(join(temp, "blobs", "sha256"), { recursive: true });
    if (old) await keepOldBlobs(dest, temp);
    for (const blob of blobs) {
      if (blob.bytes) await writeFile(blobPath(temp, blob.desc.digest), blob.bytes);
      else await putBlob(temp, blob.desc, content);
    }
    await writeFile(join(temp, "oci-layout"), OCI_LAYOUT);
    await writeFile(join(temp, "index.json"), JSON.stringify(withTag(old, top, tag)));
    await swapIn(temp, dest);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** The index with desc tagged `tag`, replacing what had that tag (client/ociindex's insertDesc). */
function withTag(old: ImageIndex | undefined, desc: Descriptor, tag: string): ImageIndex {
  const kept = (old?.manifests ?? []).filter((m) => m.annotations?.[REF_NAME] !== tag);
  const entry: Descriptor = { ...desc, annotations: { ...desc.annotations, [REF_NAME]: tag } };
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...kept, entry] };
}

/**
 * Tags desc in DIR/index.json (BuildKit's ociindex Put), for blobs already in DIR: the new
 * index is written beside the old and renamed over it. Adds the oci-layout file if missing.
 */
export async function tagInLayout(dir: string, tag: string, desc: Descriptor): Promise<void> {
  const index = withTag(await readLayoutIndex(dir), desc, tag);
  const temp = join(dir, `.index.json.tmp-${randomUUID()}`);
  try {
    await writeFile(temp, JSON.stringify(index));
    await rename(temp, join(dir, "index.json"));
  } finally {
    await rm(temp, { force: true });
  }
  if (!(await stat(join(dir, "oci-layout")).catch(() => undefined))) await writeFile(join(dir, "oci-layout"), OCI_LAYOUT);
}

/** The descriptor tagged `tag` in DIR/index.json; undefined when DIR has no index.json. NotFound for an unknown tag. */
export async function taggedInLayout(dir: string, tag: string): Promise<Descriptor | undefined> {
  const index = await readLayoutIndex(dir);
  if (index === undefined) return undefined;
  const entry = index.manifests.find((m) => m.annotations?.[REF_NAME] === tag);
  if (entry === undefined) throw new BuildkitError("NotFound", `${dir}: no cache manifest tagged "${tag}"`);
  if (!isDigest(entry.digest)) throw new BuildkitError("InvalidArgument", `${join(dir, "index.json")}: tag "${tag}" has digest ${JSON.stringify(entry.digest)}, not a sha256 digest`);
  return entry;
}

async function swapIn(temp: string, dest: string): Promise<void> {
  const exists = (await stat(dest).catch(() => undefined)) !== undefined;
  if (!exists) return await rename(temp, dest);
  const aside = `${temp}.old`;
  await rename(dest, aside);
  try {
    await rename(temp, dest);
  } catch (err) {
    await rename(aside, dest).catch(() => undefined);
    throw err;
  }
  await rm(aside, { recursive: true, force: true });
}

