// Disk-usage records, as `buildctl du` shows them: one per committed snapshot and one per
// persistent cache mount. A snapshot with a record in the cache index is a result (its type from
// the op that made it); one without is internal (a parent nothing in the index names any more).
// Sizes are a snapshot's own bytes (not its parents'), measured once and kept in the index:
// committed snapshots never change.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { diskUsage } from "../fs/disk-usage.ts";
import type { ContentStore } from "../worker/content-store.ts";
import type { SnapshotInfo, Snapshotter } from "../worker/snapshotter.ts";
import { contentRecords, traceRecords } from "./state-usage.ts";
import type { CacheStore, ResultRecord } from "./store.ts";

/** BuildKit's usage record types (client.UsageRecordType) that this engine produces. */
export type CacheRecordType = "regular" | "internal" | "frontend" | "source.local" | "source.git.checkout" | "exec.cachemount";
/** What the state holds besides cache results (state-usage.ts); prunes handle them on their own terms. */
export type StateRecordType = "content" | "image" | "trace";
export type RecordType = CacheRecordType | StateRecordType;

const STATE_TYPES: ReadonlySet<RecordType> = new Set<StateRecordType>(["content", "image", "trace"]);

/** A cache result or cache mount, which the prune policies select from (not a blob, image or trace). */
export function isCacheRecord(r: Pick<UsageRecord, "type">): boolean {
  return !STATE_TYPES.has(r.type);
}

export interface UsageRecord {
  /** A snapshot name, or a cache mount's directory name. */
  readonly id: string;
  readonly type: RecordType;
  /** Bytes used by this record alone. */
  readonly size: number;
  /** Milliseconds since the epoch. */
  readonly created: number;
  /** Undefined when never recorded (internal snapshots). */
  readonly lastUsed: number | undefined;
  readonly usageCount: number;
  /** Held by a running build (or under one of its snapshots): never removed. */
  readonly inUse: boolean;
  /** Other snapshots are layered on this one: it can go only after them. */
  readonly shared: boolean;
  /** The vertex name that made it. */
  readonly description: string;
  /** The snapshot this one is layered on. */
  readonly parent: string | undefined;
  /** The results the op that made it took as inputs. */
  readonly inputs: readonly string[];
}

export interface UsageSources {
  readonly snapshotter: Snapshotter;
  readonly store: CacheStore;
  /** ROOT/cache-mounts; without it, cache mounts are not listed. */
  readonly cacheMountsDir?: string;
  /** Snapshot names with a live hold in this process (SnapshotRefs.inUse()). */
  readonly inUse?: ReadonlySet<string>;
  /** The worker's root: with it, traces are listed (and with content, blobs and images). */
  readonly root?: string;
  readonly content?: ContentStore;
}

/** Every record, least recently used first. */
export async function collectUsage(src: UsageSources): Promise<UsageRecord[]> {
  const snapshots = await src.snapshotter.list();
  const results = new Map(src.store.list().map((r) => [r.id, r]));
  const graph = snapshotGraph(snapshots, src.inUse ?? new Set());
  const records: UsageRecord[] = [];
  for (const s of snapshots) {
    if (s.kind !== "committed") continue;
    records.push(await snapshotRecord(s, results.get(s.name), graph, src));
  }
  if (src.cacheMountsDir !== undefined) records.push(...(await cacheMountRecords(src.cacheMountsDir)));
  if (src.root !== undefined && src.content !== undefined) records.push(...(await contentRecords(src.root, src.content)));
  if (src.root !== undefined) records.push(...(await traceRecords(src.root)));
  return records.sort(byLastUse);
}

/** Least recently used first; then least used, oldest, and by id so the order is total. */
export function byLastUse(a: UsageRecord, b: UsageRecord): number {
  return (a.lastUsed ?? a.created) - (b.lastUsed ?? b.created) || a.usageCount - b.usageCount || a.created - b.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Result ids in the index whose snapshot is gone (a crash between the two removals, or older state). */
export async function danglingResults(src: Pick<UsageSources, "snapshotter" | "store">): Promise<string[]> {
  const names = new Set((await src.snapshotter.list()).map((s) => s.name));
  return src.store
    .list()
    .map((r) => r.id)
    .filter((id) => !names.has(id));
}

interface SnapshotGraph {
  readonly withChildren: ReadonlySet<string>;
  readonly inUse: ReadonlySet<string>;
}

/**
 * Which snapshots have children, and which are in use: held ones, active and view snapshots
 * (a build is writing or reading them), and every ancestor of those (their lower dirs).
 */
function snapshotGraph(snapshots: readonly SnapshotInfo[], held: ReadonlySet<string>): SnapshotGraph {
  const parentOf = new Map(snapshots.map((s) => [s.name, s.parent]));
  const withChildren = new Set(snapshots.flatMap((s) => (s.parent === undefined ? [] : [s.parent])));
  const inUse = new Set<string>();
  const roots = [...held, ...snapshots.filter((s) => s.kind !== "committed").map((s) => s.name)];
  for (const start of roots) {
    for (let name: string | undefined = start; name !== undefined && !inUse.has(name); name = parentOf.get(name)) inUse.add(name);
  }
  return { withChildren, inUse };
}

/** Image layers are snapshots named by their chain ID (sources/image/unpack.ts). */
const IMAGE_LAYER_PREFIX = "layer-sha256:";

async function snapshotRecord(s: SnapshotInfo, result: ResultRecord | undefined, graph: SnapshotGraph, src: UsageSources): Promise<UsageRecord> {
  const base = { id: s.name, size: await sizeOf(s.name, result, src), inUse: graph.inUse.has(s.name), shared: graph.withChildren.has(s.name), parent: s.parent };
  if (!result) {
    // An image's lower layer (only its top one is an op's result): a regular record, as BuildKit's
    // pulled layers are, so prune and GC reclaim it once no image needs it. Any other snapshot
    // without a record is internal (prune --all only).
    const layer = s.name.startsWith(IMAGE_LAYER_PREFIX);
    return { ...base, type: layer ? "regular" : "internal", created: s.created, lastUsed: undefined, usageCount: 0, description: layer ? "pulled image layer" : "", inputs: [] };
  }
  const { created, lastUsed, usageCount, description } = result;
  return { ...base, type: recordType(result), created, lastUsed, usageCount, description, inputs: result.parents };
}

async function sizeOf(name: string, result: ResultRecord | undefined, src: UsageSources): Promise<number> {
  if (result?.size !== undefined) return result.size;
  const { size } = await src.snapshotter.usage(name);
  if (result) src.store.setSize(name, size);
  return size;
}

/**
 * The record type BuildKit gives what this op made: by the source's scheme the kind records
 * (scheduler.ts); records saved before kinds carried it say "source" and are told by their
 * description, which was the identifier unless the vertex had a custom name.
 */
export function recordType(result: Pick<ResultRecord, "kind" | "description">): CacheRecordType {
  const scheme = result.kind === "source" ? /^([a-z-]+):\/\//.exec(result.description)?.[1] : result.kind.startsWith("source.") ? result.kind.slice("source.".length) : undefined;
  if (scheme === "local") return "source.local";
  if (scheme === "git") return "source.git.checkout";
  return "regular";
}

/** Cache mount directories are named by the sha256 of their id (cache-mounts.ts). */
const CACHE_MOUNT_DIR = /^[0-9a-f]{64}$/;

async function cacheMountRecords(dir: string): Promise<UsageRecord[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw err;
  });
  const records: UsageRecord[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || !CACHE_MOUNT_DIR.test(e.name)) continue;
    const path = join(dir, e.name);
    const st = await stat(path);
    records.push({
      id: e.name,
      type: "exec.cachemount",
      size: (await diskUsage(path)).size,
      created: st.birthtimeMs || st.ctimeMs,
      // The directory's own mtime: when an entry at its top was last added or removed.
      lastUsed: st.mtimeMs,
      usageCount: 0,
      inUse: false,
      shared: false,
      description: "cache mount",
      parent: undefined,
      inputs: [],
    });
  }
  return records;
}
