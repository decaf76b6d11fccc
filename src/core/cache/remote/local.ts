/**
 * `type=local`: the cache as an OCI image layout directory (oci-layout, index.json,
 * blobs/sha256/…), the cache manifest listed in index.json under its tag
 * (org.opencontainers.image.ref.name). Writing builds the new layout in a temporary directory
 * beside dest (keeping an existing layout's blobs and other tags) and swaps it in by rename, so
 * a reader sees the old cache or the new one, never half of one. Blobs are copied, never
 * hard-linked, so editing the layout cannot touch the worker's content store.
 */
import { randomUUID } from "node:crypto";
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isDigest, sha256 } from "../../digest.ts";
import type { Digest } from "../../digest.ts";
import { BuildkitError } from "../../errors.ts";
import { MediaType } from "../../image/oci-types.ts";
import type { Descriptor, ImageIndex } from "../../image/oci-types.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import { verifyingStream } from "../../registry/verify-stream.ts";
import type { EncodedBuildkitCache } from "./buildkit-format.ts";
import { loadCacheFromTop } from "./loaded-cache.ts";
import type { BlobSource, LoadedCache } from "./source.ts";

const REF_NAME = "org.opencontainers.image.ref.name";
const MAX_SMALL_BLOB = 32 << 20;

function blobPath(dir: string, digest: Digest): string {
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

/** Writes the cache into dest as an OCI layout, tagged tag; layers are read from content. */
export async function writeLocalCache(dest: string, tag: string, encoded: EncodedBuildkitCache, layers: readonly Descriptor[], content: ContentStore): Promise<void> {
  const old = await checkDest(dest);
  await mkdir(dirname(dest), { recursive: true });
  const temp = join(dirname(dest), `.${basename(dest)}.tmp-${randomUUID()}`);
  try {
    await mkdir(join(temp, "blobs", "sha256"), { recursive: true });
    if (old) await keepOldBlobs(dest, temp);
    for (const layer of layers) await putBlob(temp, layer, content);
    for (const small of [encoded.config, encoded.index]) await writeFile(blobPath(temp, small.descriptor.digest), small.bytes);
    await writeFile(join(temp, "oci-layout"), OCI_LAYOUT);
    await writeFile(join(temp, "index.json"), JSON.stringify(withTag(old, encoded.index.descriptor, tag)));
    await swapIn(temp, dest);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

const OCI_LAYOUT = JSON.stringify({ imageLayoutVersion: "1.0.0" });

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

async function readSmallBlob(dir: string, desc: Descriptor, what: string): Promise<Uint8Array> {
  if (desc.size > MAX_SMALL_BLOB) throw new BuildkitError("InvalidArgument", `${what} ${desc.digest}: larger than ${MAX_SMALL_BLOB} bytes`);
  const bytes = await readFile(blobPath(dir, desc.digest)).catch(() => undefined);
  if (bytes === undefined) throw new BuildkitError("NotFound", `${what} ${desc.digest} is missing`);
  const got = sha256(bytes);
  if (got !== desc.digest) throw new BuildkitError("InvalidArgument", `${what} ${desc.digest}: digest mismatch (got ${got})`);
  return new Uint8Array(bytes);
}

/** Reads the cache tagged tag from the layout at src; its blobs are verified as they stream. */
export async function readLocalCache(src: string, tag: string): Promise<LoadedCache> {
  const entry = await taggedInLayout(src, tag);
  if (entry === undefined) throw new BuildkitError("NotFound", `${src} is not an OCI image layout (no index.json)`);
  const top = await readSmallBlob(src, entry, "cache index");
  const source: BlobSource = {
    async fetch(desc) {
      const file = Bun.file(blobPath(src, desc.digest));
      if (!(await file.exists())) throw new BuildkitError("NotFound", `blob ${desc.digest} is missing from ${src}`);
      return verifyingStream(file.stream(), desc);
    },
  };
  return await loadCacheFromTop(src, top, (desc, what) => readSmallBlob(src, desc, what), source);
}
