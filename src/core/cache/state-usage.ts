// Disk-usage records for what the root holds besides cache results, so that `du` accounts for
// the whole state: build traces (type "trace"), images kept by name with push=false (type
// "image": their manifests, configs and layers, never pruned), and every other content-store
// blob (type "content": layers, pushed images' manifests, downloads; the content GC after a
// prune removes those nothing names). Also the trace pruning every prune runs: a full
// `prune --all` removes every trace, any other prune (automatic GC included) keeps the newest
// TRACES_KEPT.
import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { isDigest } from "../digest.ts";
import { readBlob } from "../content/blobs.ts";
import { readImages } from "../content/local-images.ts";
import type { ContentStore } from "../worker/content-store.ts";
import { statePath } from "../worker/storage.ts";
import type { UsageRecord } from "./usage.ts";

export const TRACES_KEPT = 50;

interface TraceFile {
  readonly name: string;
  readonly path: string;
  readonly size: number;
  readonly mtime: number;
}

/** Trace files, oldest first (their names start with the build's start time). */
async function traceFiles(root: string): Promise<TraceFile[]> {
  const dir = statePath(root, "traces");
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [] as string[];
    throw err;
  });
  const files: TraceFile[] = [];
  for (const name of names.filter((n) => n.endsWith(".jsonl")).sort()) {
    const path = join(dir, name);
    const st = await lstat(path).catch(() => undefined);
    if (st?.isFile()) files.push({ name, path, size: st.blocks * 512, mtime: st.mtimeMs });
  }
  return files;
}

const traceRecord = (f: TraceFile): UsageRecord => ({ ...NOT_A_SNAPSHOT, id: f.name, type: "trace", size: f.size, created: f.mtime, lastUsed: f.mtime, description: "build trace" });

export async function traceRecords(root: string): Promise<UsageRecord[]> {
  return (await traceFiles(root)).map(traceRecord);
}

/** Removes all but the newest `keep` traces, oldest first, each reported to onRemoved; returns their count and bytes. */
export async function pruneTraces(root: string, keep: number, onRemoved?: (r: UsageRecord) => void): Promise<{ readonly count: number; readonly bytes: number }> {
  const files = await traceFiles(root);
  const old = files.slice(0, Math.max(0, files.length - keep));
  for (const f of old) {
    await rm(f.path, { force: true });
    onRemoved?.(traceRecord(f));
  }
  return { count: old.length, bytes: old.reduce((n, f) => n + f.size, 0) };
}

const NOT_A_SNAPSHOT = { usageCount: 0, inUse: false, shared: false, parent: undefined, inputs: [] } as const;

/** Pinned images (each with the blobs it reaches), then every other blob. */
export async function contentRecords(root: string, content: ContentStore): Promise<UsageRecord[]> {
  const sizes = new Map<string, number>();
  const now = Date.now();
  for await (const info of content.list()) sizes.set(info.digest, info.size);
  const counted = new Set<string>();
  const records: UsageRecord[] = [];
  const { images } = await readImages(root);
  for (const [name, image] of Object.entries(images)) {
    const blobs = await reachable(content, image.target.digest);
    const own = [...blobs].filter((d) => sizes.has(d) && !counted.has(d));
    for (const d of own) counted.add(d);
    const time = Date.parse(image.created) || now;
    // Kept by name: no prune removes it, hence not reclaimable.
    records.push({ ...NOT_A_SNAPSHOT, id: name, type: "image", size: own.reduce((n, d) => n + (sizes.get(d) ?? 0), 0), created: time, lastUsed: time, inUse: true, description: image.target.digest });
  }
  for (const [digest, size] of sizes) {
    if (counted.has(digest)) continue;
    records.push({ ...NOT_A_SNAPSHOT, id: digest, type: "content", size, created: now, lastUsed: undefined, description: "content blob" });
  }
  return records;
}

/** The blobs a manifest or index names, itself included (a few levels deep). */
async function reachable(content: ContentStore, top: string): Promise<Set<string>> {
  const found = new Set<string>();
  const visit = async (digest: string, depth: number): Promise<void> => {
    if (!isDigest(digest) || found.has(digest) || depth > 4) return;
    found.add(digest);
    let doc: { manifests?: { digest?: string }[]; config?: { digest?: string }; layers?: { digest?: string }[] };
    try {
      doc = JSON.parse(new TextDecoder().decode(await readBlob(content, digest))) as typeof doc;
    } catch {
      return; // missing, or not JSON (a layer)
    }
    for (const m of doc.manifests ?? []) if (m.digest) await visit(m.digest, depth + 1);
    for (const d of [doc.config?.digest, ...(doc.layers ?? []).map((l) => l.digest)]) if (d && isDigest(d)) found.add(d);
  };
  await visit(top, 0);
  return found;
}
