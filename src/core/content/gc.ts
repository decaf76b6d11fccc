/**
 * Garbage collection of the content store, run at the end of every prune (and so of automatic
 * GC), under the root's lock. A blob stays while something still names it:
 *
 * - the layers index, for snapshots that still exist (pulled layers, exported layers, imported
 *   cache layers); rows of snapshots that are gone are forgotten;
 * - a pulled image's index, manifest and config, while the snapshot of its layers exists (a
 *   digest-pinned build then resolves without the network);
 * - images.json (images exported with push=false): each manifest or index and what it names;
 * - the http source's remembered downloads (ROOT/http/*.json) used in the last 30 days; older
 *   ones are forgotten.
 *
 * Anything else (a pushed image's manifest and config, a layer of a pruned snapshot) goes
 * (temporary files a killed process left are the store's own business). Nothing removed here is
 * needed for correctness: an export compresses again, a pull or a download fetches again.
 *
 * It assumes no build is running on the root meanwhile (true under the root lock, which a
 * daemonless build holds from start to end); a daemon running builds while collecting would
 * first have to mark the blobs its running builds hold.
 */
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Digest } from "../digest.ts";
import { isDigest } from "../digest.ts";
import type { ContentStore } from "../worker/content-store.ts";
import type { Snapshotter } from "../worker/snapshotter.ts";
import { statePath } from "../worker/storage.ts";
import { readBlob } from "./blobs.ts";
import { ContentIndex } from "./index-db.ts";
import { readImages } from "./local-images.ts";

export interface ContentGCReport {
  readonly blobs: number;
  readonly bytes: number;
}

const HTTP_RECORD_TTL_MS = 30 * 86400e3;

export async function collectContent(root: string, p: { content: ContentStore; snapshotter: Snapshotter }, now = Date.now()): Promise<ContentGCReport> {
  const { content, snapshotter } = p;
  const blobs: { digest: Digest; size: number }[] = [];
  for await (const info of content.list()) blobs.push(info);
  if (blobs.length === 0) return { blobs: 0, bytes: 0 };
  const keep = new Set<string>();
  const index = ContentIndex.open(statePath(root, "content"));
  try {
    const committed = new Set((await snapshotter.list()).filter((s) => s.kind === "committed").map((s) => s.name));
    const goneSnapshots = new Set<string>();
    for (const row of index.layerRows()) {
      if (committed.has(row.snapshot)) keep.add(row.digest);
      else goneSnapshots.add(row.snapshot);
    }
    for (const row of index.pulledRows()) {
      if (committed.has(row.snapshot)) keep.add(row.digest);
      else goneSnapshots.add(row.snapshot);
    }
    await markImages(root, content, keep);
    await markHttpRecords(root, keep, now);
    const removed: Digest[] = [];
    let bytes = 0;
    for (const blob of blobs) {
      if (keep.has(blob.digest)) continue;
      if (await content.delete(blob.digest)) bytes += blob.size;
      removed.push(blob.digest);
    }
    index.forget(goneSnapshots, removed);
    return { blobs: removed.length, bytes };
  } finally {
    index.close();
  }
}

/** Marks every blob an images.json entry reaches: the manifest (or index) and what it names. */
async function markImages(root: string, content: ContentStore, keep: Set<string>): Promise<void> {
  const { images } = await readImages(root);
  const visit = async (digest: string, depth: number): Promise<void> => {
    if (!isDigest(digest) || keep.has(digest) || depth > 4) return;
    keep.add(digest);
    let doc: { manifests?: { digest?: string }[]; config?: { digest?: string }; layers?: { digest?: string }[] };
    try {
      doc = JSON.parse(new TextDecoder().decode(await readBlob(content, digest))) as typeof doc;
    } catch {
      return; // missing, or a blob that is not JSON (a layer)
    }
    for (const m of doc.manifests ?? []) if (m.digest) await visit(m.digest, depth + 1);
    if (doc.config?.digest && isDigest(doc.config.digest)) keep.add(doc.config.digest);
    for (const l of doc.layers ?? []) if (l.digest && isDigest(l.digest)) keep.add(l.digest);
  };
  for (const image of Object.values(images)) await visit(image.target.digest, 0);
}

/** Marks the http source's remembered downloads; forgets records unused for 30 days. */
async function markHttpRecords(root: string, keep: Set<string>, now: number): Promise<void> {
  const dir = statePath(root, "http");
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith(".json")) continue;
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (!st) continue;
    if (now - st.mtimeMs > HTTP_RECORD_TTL_MS) {
      await rm(path, { force: true });
      continue;
    }
    try {
      const records = JSON.parse(await readFile(path, "utf8")) as { digest?: string }[];
      for (const r of Array.isArray(records) ? records : []) if (r.digest && isDigest(r.digest)) keep.add(r.digest);
    } catch {
      // unreadable: its downloads are simply not kept
    }
  }
}
