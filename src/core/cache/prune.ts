// Pruning the build cache, with BuildKit's semantics (cache/manager.go prune):
// - never what a running build uses (in use), nor what other snapshots are layered on until
//   they go first (so one prune removes a chain child first, parent after);
// - without `all`, internal and frontend records stay (snapshots no cache record names);
// - keepDuration keeps everything used within that time;
// - keepStorage: nothing is removed while the total is at or under it; over it, records go
//   least recently used first until it is under. Without it every candidate goes.
// A result's index rows are removed before its data, so a crash leaves at worst a snapshot
// no record names: an internal record the next prune removes.
import { readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { BuildkitError, withContext } from "../errors.ts";
import { matchFilters, type UsageFilter } from "./usage-filter.ts";
import { byLastUse, collectUsage, danglingResults, isCacheRecord, type UsageRecord, type UsageSources } from "./usage.ts";
import { pruneTraces, TRACES_KEPT } from "./state-usage.ts";
import { collectContent, type ContentGCReport } from "../content/gc.ts";
import type { ContentStore } from "../worker/content-store.ts";
import { collectGitCache } from "../sources/git/cache-gc.ts";
import { collectLocalMirrors } from "../sources/local/mirror-gc.ts";
import { collectStatFiles } from "../sources/local/stat-files-gc.ts";

export interface PrunePolicy {
  /** Also internal and frontend records. */
  readonly all?: boolean;
  /** Keep records used within this many milliseconds. */
  readonly keepDuration?: number;
  /**
   * Bytes to keep: prune only down to this total (of every record, kept ones included). A
   * function gets the current total (GC derives its limit from it). 0 or absent: no limit.
   */
  readonly keepStorage?: number | ((total: number) => number);
  readonly filters?: readonly UsageFilter[];
}

/** What may be removed under the policy, ignoring order and limits. */
export function isCandidate(r: UsageRecord, policy: PrunePolicy, now: number): boolean {
  if (r.inUse) return false;
  if (!policy.all && (r.type === "internal" || r.type === "frontend")) return false;
  if (policy.keepDuration && (r.lastUsed ?? r.created) > now - policy.keepDuration) return false;
  return matchFilters(r, policy.filters ?? [], now);
}

/** The records to remove, in removal order: children before their parents, LRU first. */
export function planPrune(all: readonly UsageRecord[], policy: PrunePolicy, now: number): UsageRecord[] {
  // Blobs, images and traces are not the policies' to pick, nor counted against keepStorage.
  const records = all.filter(isCacheRecord);
  const total = records.reduce((sum, r) => sum + r.size, 0);
  const keep = typeof policy.keepStorage === "function" ? policy.keepStorage(total) : (policy.keepStorage ?? 0);
  if (keep > 0 && total <= keep) return [];
  const candidates = new Map(records.filter((r) => isCandidate(r, policy, now)).map((r) => [r.id, r]));
  const children = countChildren(records);
  const ready = [...candidates.values()].filter((r) => !children.get(r.id)).sort(byLastUse);
  const plan: UsageRecord[] = [];
  let remaining = total;
  for (let next = ready.shift(); next !== undefined && (keep <= 0 || remaining > keep); next = ready.shift()) {
    plan.push(next);
    remaining -= next.size;
    const parent = next.parent === undefined ? undefined : candidates.get(next.parent);
    if (parent && release(children, parent.id) === 0) insertSorted(ready, parent);
  }
  return plan;
}

function countChildren(records: readonly UsageRecord[]): Map<string, number> {
  const children = new Map<string, number>();
  for (const r of records) if (r.parent !== undefined) children.set(r.parent, (children.get(r.parent) ?? 0) + 1);
  return children;
}

function release(children: Map<string, number>, id: string): number {
  const n = (children.get(id) ?? 1) - 1;
  children.set(id, n);
  return n;
}

function insertSorted(list: UsageRecord[], r: UsageRecord): void {
  const at = list.findIndex((x) => byLastUse(r, x) < 0);
  list.splice(at < 0 ? list.length : at, 0, r);
}

export interface PruneTarget extends UsageSources {
  /** The worker's root: when given, the content store is garbage-collected after the records, and old traces removed. */
  readonly root?: string;
  /** The worker's content store, collected with the root. */
  readonly content?: ContentStore;
  /** Re-read just before each removal: holds taken since the records were collected. */
  readonly currentInUse?: () => ReadonlySet<string>;
  readonly now?: () => number;
}

export interface PruneReport {
  /** In removal order. */
  readonly removed: UsageRecord[];
  /** Bytes freed. */
  readonly reclaimed: number;
  /** Index records whose snapshot was already gone, forgotten. */
  readonly dangling: number;
  /** Blobs no longer named by anything, removed from the content store (with a root). */
  readonly content?: ContentGCReport;
  /** Trace files removed (with a root): all on a full prune --all, else all but the newest TRACES_KEPT. */
  readonly traces?: { readonly count: number; readonly bytes: number };
}

export interface PruneRunOptions {
  /** Called after each record is removed (to print it as it goes). */
  readonly onRemoved?: (r: UsageRecord) => void;
  readonly signal?: AbortSignal;
}

/**
 * Applies each policy in turn to the records as the previous ones left them and removes what
 * it selects. The caller holds the root lock, so no other process is building meanwhile.
 */
export async function prune(target: PruneTarget, policies: PrunePolicy | readonly PrunePolicy[], opts: PruneRunOptions = {}): Promise<PruneReport> {
  const now = target.now ?? Date.now;
  const dangling = await danglingResults(target);
  for (const id of dangling) target.store.remove(id);
  if (target.cacheMountsDir !== undefined) await sweepTrash(target.cacheMountsDir);
  const removed: UsageRecord[] = [];
  let records: UsageRecord[] | undefined;
  for (const policy of Array.isArray(policies) ? policies : [policies as PrunePolicy]) {
    opts.signal?.throwIfAborted();
    // Collected again only when the previous policy removed something.
    records ??= await collectUsage(target);
    const gone = await removeAll(target, planPrune(records, policy, now()), opts);
    if (gone.length > 0) records = undefined;
    removed.push(...gone);
  }
  const content = target.root === undefined || target.content === undefined ? undefined : await collectContent(target.root, { content: target.content, snapshotter: target.snapshotter }, now());
  if (target.root !== undefined) await collectGitCache(target.root, now());
  if (target.root !== undefined) await collectLocalMirrors(target.root, now());
  const list = Array.isArray(policies) ? policies : [policies as PrunePolicy];
  if (target.root !== undefined) await collectStatFiles(target.root, { now: now(), all: list.some(isFullPrune) });
  const traces = target.root === undefined ? undefined : await pruneTraces(target.root, list.some(isFullPrune) ? 0 : TRACES_KEPT, opts.onRemoved);
  return { removed, reclaimed: removed.reduce((sum, r) => sum + r.size, 0), dangling: dangling.length, ...(content ? { content } : {}), ...(traces ? { traces } : {}) };
}

/** `prune --all` and nothing narrowing it: everything removable goes, traces included. */
function isFullPrune(p: PrunePolicy): boolean {
  return p.all === true && !p.keepDuration && !p.keepStorage && (p.filters ?? []).length === 0;
}

/** Removes plan's records in order; one held since planning keeps itself and its ancestors. */
async function removeAll(target: PruneTarget, plan: readonly UsageRecord[], opts: PruneRunOptions): Promise<UsageRecord[]> {
  const removed: UsageRecord[] = [];
  const kept = new Set<string>();
  for (const r of plan) {
    opts.signal?.throwIfAborted();
    if (kept.has(r.id) || target.currentInUse?.().has(r.id)) {
      if (r.parent !== undefined) kept.add(r.parent);
      continue;
    }
    await removeRecord(target, r);
    removed.push(r);
    opts.onRemoved?.(r);
  }
  return removed;
}

async function removeRecord(target: PruneTarget, r: UsageRecord): Promise<void> {
  try {
    if (r.type === "exec.cachemount") return await removeCacheMount(target, r.id);
    target.store.remove(r.id);
    await target.snapshotter.remove(r.id);
  } catch (err) {
    if (err instanceof BuildkitError && err.code === "NotFound") return;
    throw withContext(`removing cache record ${r.id}`, err);
  }
}

/** Renamed out of the way first, so a crash mid-delete leaves no half-emptied cache mount in use. */
async function removeCacheMount(target: PruneTarget, id: string): Promise<void> {
  if (target.cacheMountsDir === undefined) throw new BuildkitError("Internal", `removing cache mount ${id}: no cache mount directory`);
  const trash = join(target.cacheMountsDir, `.removing-${id}`);
  await rename(join(target.cacheMountsDir, id), trash);
  await rm(trash, { recursive: true, force: true });
}

/** Cache mounts a killed prune was deleting. */
async function sweepTrash(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) if (name.startsWith(".removing-")) await rm(join(dir, name), { recursive: true, force: true });
}
