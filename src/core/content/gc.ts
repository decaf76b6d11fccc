/**
 * Garbage collection of the content store, run at the end of every prune (and so of automatic
 * GC), under the root's lock. A blob stays while something still names it:
 *
 * - the layers index, for snapshots that still exist (pulled layers, exported layers, imported
 *   cache layers); rows of snapshots that are gone are forgotten;
 * - images.json (images exported with push=false): each manifest or index and what it names;
 * - the http source's remembered downloads (ROOT/http/*.json) used in the last 30 days; older
 *   ones are forgotten.
 *
 * Anything else (a pushed image's manifest and config, a layer of a pruned snapshot) goes, and
 * so do temporary files a killed process left (older than an hour). Nothing removed here is
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
import { readImages } from "./local-images.ts";
import type { Snapshotter } from "../worker/snapshotter.ts";
import { ContentIndex } from "./index-db.ts";
import { ContentStore, hexOf } from "./store.ts";

export interface ContentGCReport {
  readonly blobs: number;
  readonly bytes: number;
}

const HTTP_RECORD_TTL_MS = 30 * 86400e3;
const TEMP_TTL_MS = 3600e3;

export async function collectContent(root: string, snapshotter: Snapshotter, now = Date.now()): Promise<ContentGCReport> {
  const content = new ContentStore(root);
  const blobsDir = join(content.dir, "blobs", "sha256");
  const names = await readdir(blobsDir).catch(() => [] as string[]);
  if (names.length === 0) return { blobs: 0, bytes: 0 };
  const keep = new Set<string>();
  const index = ContentIndex.open(content.dir);
  try {
    const committed = new Set((await snapshotter.list()).filter((s) => s.kind === "committed").map((s) => s.name));
    const goneSnapshots = new Set<string>();
    for (const row of index.layerRows()) {
      if (committed.has(row.snapshot)) keep.add(hexOf(row.digest));
      else goneSnapshots.add(row.snapshot);
    }
    await markImages(root, content, keep);
    await markHttpRecords(root, keep, now);
    const removed: Digest[] = [];
    let bytes = 0;
    for (const name of names) {
      const path = join(blobsDir, name);
      if (name.startsWith(".tmp-")) {
        const st = await stat(path).catch(() => undefined);
        if (st && now - st.mtimeMs > TEMP_TTL_MS) await rm(path, { force: true });
        continue;
      }
      if (keep.has(name)) continue;
      const st = await stat(path).catch(() => undefined);
      await rm(path, { force: true });
      bytes += st?.size ?? 0;
      removed.push(`sha256:${name}` as Digest);
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
    if (!isDigest(digest) || keep.has(hexOf(digest)) || depth > 4) return;
    keep.add(hexOf(digest));
    let doc: { manifests?: { digest?: string }[]; config?: { digest?: string }; layers?: { digest?: string }[] };
    try {
      doc = JSON.parse(await readFile(content.blobPath(digest), "utf8")) as typeof doc;
    } catch {
      return; // missing, or a blob that is not JSON (a layer)
    }
    for (const m of doc.manifests ?? []) if (m.digest) await visit(m.digest, depth + 1);
    if (doc.config?.digest && isDigest(doc.config.digest)) keep.add(hexOf(doc.config.digest));
    for (const l of doc.layers ?? []) if (l.digest && isDigest(l.digest)) keep.add(hexOf(l.digest));
  };
  for (const image of Object.values(images)) await visit(image.target.digest, 0);
}

/** Marks the http source's remembered downloads; forgets records unused for 30 days. */
async function markHttpRecords(root: string, keep: Set<string>, now: number): Promise<void> {
  const dir = join(root, "http");
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
      for (const r of Array.isArray(records) ? records : []) if (r.digest && isDigest(r.digest)) keep.add(hexOf(r.digest));
    } catch {
      // unreadable: its downloads are simply not kept
    }
  }
}
