/**
 * Materialising an imported result: its layers applied as stacked snapshots named by chain ID
 * (`layer-<chainID>`, as image sources name pulled layers, so both share what is there). The
 * highest snapshot already present is the starting point; missing blobs are downloaded into
 * the content store (verified while streaming, in parallel) and applied in order, each diffID
 * checked. Applied layers are recorded in the content index so exporting them reuses the blob.
 */
import type { ContentIndex } from "../../content/index-db.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import { blobSize, writeBlob } from "../../content/blobs.ts";
import { sha256 } from "../../digest.ts";
import type { Digest } from "../../digest.ts";
import { BuildkitError } from "../../errors.ts";
import { compressionOfMediaType } from "../../image/compression.ts";
import { applyLayer } from "../../image/layer-apply.ts";
import { discard, prepareMutable } from "../../worker/snapshots.ts";
import type { Worker } from "../../worker/worker.ts";
import type { CacheLayer } from "./format.ts";
import type { ProgressTask as ProgressTask } from "../../progress/task.ts";
import type { BlobSource } from "./source.ts";
import { countBytes } from "../../progress/count-bytes.ts";

/** The snapshot an imported record with no layers stands for. */
export const EMPTY_SNAPSHOT = "layer-empty";

export interface ChainDeps {
  readonly worker: Worker;
  readonly content: ContentStore;
  readonly index: ContentIndex;
  readonly signal: AbortSignal;
}

/** OCI chain IDs: the identity of each stack of layers, base first. */
export function chainIDs(diffIDs: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIDs) out.push(out.length === 0 ? d : sha256(`${out[out.length - 1]} ${d}`));
  return out;
}

export function snapshotName(chainID: Digest | undefined): string {
  return chainID === undefined ? EMPTY_SNAPSHOT : `layer-${chainID}`;
}

async function committed(worker: Worker, name: string): Promise<boolean> {
  return (await worker.snapshotter.stat(name))?.kind === "committed";
}

/** Makes the chain's snapshots (reusing those present); returns the top one's name. */
export async function materialiseChain(layers: readonly CacheLayer[], source: BlobSource, deps: ChainDeps, task: () => ProgressTask): Promise<string> {
  if (layers.length === 0) return await emptySnapshot(deps.worker);
  const names = chainIDs(layers.map((l) => l.diffID)).map(snapshotName);
  let start = names.length;
  while (start > 0 && !(await committed(deps.worker, names[start - 1]!))) start--;
  if (start === names.length) return names[start - 1]!;
  const t = task();
  const blobs = layers.map((l, i) => (i < start ? undefined : fetchBlob(l, source, deps, t)));
  // Every download settles before this returns, so none writes after a failure.
  const settled = Promise.allSettled(blobs);
  try {
    let parent = start > 0 ? names[start - 1] : undefined;
    for (let i = start; i < layers.length; i++) {
      await blobs[i];
      parent = await applyOne(layers[i]!, names[i]!, parent, deps, t);
    }
    return parent as string;
  } finally {
    await settled;
  }
}

async function emptySnapshot(worker: Worker): Promise<string> {
  if (await committed(worker, EMPTY_SNAPSHOT)) return EMPTY_SNAPSHOT;
  const mut = await prepareMutable(worker);
  try {
    await worker.snapshotter.commit(EMPTY_SNAPSHOT, mut.key);
  } catch (err) {
    await discard(worker, [mut.key]);
    if (!(await committed(worker, EMPTY_SNAPSHOT))) throw err;
  }
  return EMPTY_SNAPSHOT;
}

async function fetchBlob(layer: CacheLayer, source: BlobSource, deps: ChainDeps, task: ProgressTask): Promise<void> {
  const { blob } = layer;
  if ((await blobSize(deps.content, blob.digest)) === blob.size) return;
  const stream = await source.fetch(blob, deps.signal);
  const counted = countBytes(stream, (done) => task.status(blob.digest, done, blob.size));
  await writeBlob(deps.content, blob.digest, counted, { signal: deps.signal });
  source.fetched?.(blob.digest);
  task.status(blob.digest, blob.size, blob.size, true);
}

async function applyOne(layer: CacheLayer, name: string, parent: string | undefined, deps: ChainDeps, task: ProgressTask): Promise<string> {
  const { worker } = deps;
  const { blob, diffID } = layer;
  const mut = await prepareMutable(worker, parent);
  try {
    const result = await worker.withMounted(mut.mounts, (dir) => applyLayer(deps.content.read(blob.digest), dir, { mediaType: blob.mediaType, signal: deps.signal }));
    if (result.diffID !== diffID) throw new BuildkitError("InvalidArgument", `layer ${blob.digest}: uncompressed content is ${result.diffID}, the cache says ${diffID}`);
    await worker.snapshotter.commit(name, mut.key);
    task.status(`extracting ${blob.digest}`, 1, 1, true);
    const compression = compressionOfMediaType(blob.mediaType);
    if (compression) deps.index.saveLayer({ snapshot: name, compression, level: 0 }, { digest: blob.digest, diffID, size: blob.size, empty: false });
    return name;
  } catch (err) {
    await discard(worker, [mut.key]);
    if (await committed(worker, name)) return name;
    throw err;
  }
}
