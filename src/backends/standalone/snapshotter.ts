// The standalone worker's Snapshotter on overlayfs. Layout under ROOT/snapshots:
//   <id>/fs     the snapshot's own content: the overlay upper dir while active, a lower dir once
//               committed (it never moves or gets copied)
//   <id>/work   overlay's work dir
//   metadata.db key/name → id, kind, parent, created (bun:sqlite, WAL)
// Keys and names are arbitrary strings and never appear in paths; ids are not reused.
// Records are written before directories are made and deleted before directories are removed,
// so a crash leaves at worst a directory without a record, which the next open sweeps.
// A committed snapshot whose data went missing is dropped, with what is stacked on it, when
// it is next looked up (stat): see snapshotter/heal.ts.
// A committed snapshot is "not durable" until the worker syncs the filesystem (durability.ts);
// one found so after the machine went down is dropped at open: see snapshotter/unsynced.ts.
import { mkdirSync, rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { BuildkitError } from "../../core/errors.ts";
import type { Mount } from "../../core/worker/mount.ts";
import type { SnapshotInfo, Snapshotter } from "../../core/worker/snapshotter.ts";
import { SnapshotMetadata } from "./snapshotter/metadata.ts";
import type { SnapshotKind, SnapshotRecord } from "./snapshotter/metadata.ts";
import { removeSnapshotDir } from "./snapshotter/remove-dir.ts";
import { sweep } from "./snapshotter/sweep.ts";
import type { SweepReport } from "./snapshotter/sweep.ts";
import { diskUsage } from "../../core/fs/disk-usage.ts";
import { Flattener, viewOf } from "./snapshotter/flatten.ts";
import { dropBroken, type HealPaths } from "./snapshotter/heal.ts";
import { kernelHasVolatileOverlay, VOLATILE } from "./sys/overlay-volatile.ts";
import { dropLostSnapshots, type UnsyncedReport } from "./snapshotter/unsynced.ts";
import { currentBootId } from "./boot-id.ts";

export type { SweepReport } from "./snapshotter/sweep.ts";

export interface OverlaySnapshotterOptions {
  /** The worker's root; snapshots live in ROOT/snapshots. */
  readonly root: string;
  /** Chains longer than this are mounted through flattened copies (see snapshotter/flatten.ts). */
  readonly maxLowers?: number;
  /**
   * Writable overlays of active snapshots with overlayfs's "volatile" option (no syncfs at
   * unmount; see sys/overlay-volatile.ts); default: when the kernel has it.
   */
  readonly volatile?: boolean;
  /**
   * Sweep what an earlier process left (default true). False when that process closed cleanly
   * (see clean-close.ts); a metadata database made by this open is swept all the same, since
   * every directory is then an orphan.
   */
  readonly sweep?: boolean;
  /** syncfs(2) for flattened copies (snapshotter/flatten.ts); tests count the calls. */
  readonly syncfs?: (path: string) => void;
  /** Where the warning about snapshots lost in a machine crash goes (default stderr). */
  readonly warn?: (line: string) => void;
}

export type OverlaySnapshotter = Snapshotter & {
  /** What opening swept: active snapshots of an earlier process and orphan directories. */
  readonly swept: SweepReport;
  /** Snapshots dropped at open because the machine went down before their data was synced. */
  readonly lost: UnsyncedReport;
  /** Ids of committed snapshots whose data is not yet known to be on disk. */
  unsynced(): number[];
  /** Records snapshots as durable once a syncfs that began after their commit has returned. */
  markDurable(ids: readonly number[]): void;
  /** No active or view snapshot is left and no directory removal failed: a later open need not sweep. */
  leftNothingBehind(): boolean;
  close(): Promise<void>;
};

/** Opens (creating when needed) the snapshots under opts.root and sweeps what a crash left. */
export async function createOverlaySnapshotter(opts: OverlaySnapshotterOptions): Promise<OverlaySnapshotter> {
  const dir = join(opts.root, "snapshots");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const meta = new SnapshotMetadata(join(dir, "metadata.db"));
  try {
    const swept = opts.sweep === false && !meta.fresh ? { active: 0, orphans: 0 } : await sweep(meta, dir);
    const flattener = new Flattener({ fs: (id) => join(dir, String(id), "fs"), dir: (id) => join(dir, String(id)), mountRoot: join(opts.root, "mnt"), maxLowers: opts.maxLowers, syncfs: opts.syncfs });
    // Not part of the sweep: done even after a clean close (one indexed query when all is synced).
    const lost = await dropLostSnapshots(meta, { bootId: currentBootId, dir: (id) => join(dir, String(id)), warn: opts.warn ?? ((line) => void process.stderr.write(line)) });
    return new Overlay(dir, meta, { swept, lost }, flattener, opts.volatile ?? kernelHasVolatileOverlay());
  } catch (err) {
    meta.close();
    throw err;
  }
}

const quote = (s: string) => JSON.stringify(s);

class Overlay implements OverlaySnapshotter {
  readonly #dir: string;
  readonly #meta: SnapshotMetadata;
  #closed = false;
  /** A snapshot directory removal failed: its directory may be left without a record. */
  #removalFailed = false;
  readonly #flattener: Flattener;
  readonly #volatile: boolean;
  readonly #heal: HealPaths = { fs: (id) => this.#fs(id), dir: (id) => this.#idDir(id), verified: new Set() };
  readonly swept: SweepReport;
  readonly lost: UnsyncedReport;

  constructor(dir: string, meta: SnapshotMetadata, opened: { swept: SweepReport; lost: UnsyncedReport }, flattener: Flattener, volatile: boolean) {
    this.#dir = dir;
    this.#volatile = volatile;
    this.#meta = meta;
    this.swept = opened.swept;
    this.lost = opened.lost;
    this.#flattener = flattener;
  }

  async prepare(key: string, parent?: string): Promise<Mount[]> {
    return this.#mounts(this.#create(`preparing snapshot ${quote(key)}`, { key, parent, kind: "active" }));
  }

  async view(key: string, parent?: string): Promise<Mount[]> {
    return this.#mounts(this.#create(`viewing snapshot ${quote(key)}`, { key, parent, kind: "view" }));
  }

  async mounts(key: string): Promise<Mount[]> {
    const record = this.#find(`getting mounts of snapshot ${quote(key)}`, key);
    if (record.kind === "committed") {
      throw new BuildkitError("FailedPrecondition", `getting mounts of snapshot ${quote(key)}: it is committed, not active`);
    }
    return this.#mounts(record);
  }

  async commit(name: string, key: string): Promise<void> {
    const context = `committing snapshot ${quote(key)} as ${quote(name)}`;
    const record = this.#find(context, key);
    if (record.kind !== "active") {
      throw new BuildkitError("FailedPrecondition", `${context}: it is ${record.kind === "view" ? "a view" : "already committed"}`);
    }
    checkName(context, name);
    if (name !== key && this.#meta.get(name)) throw new BuildkitError("AlreadyExists", `${context}: ${quote(name)} already exists`);
    this.#meta.commit(record.id, name, currentBootId());
  }

  async remove(key: string): Promise<void> {
    const context = `removing snapshot ${quote(key)}`;
    const record = this.#find(context, key);
    if (this.#meta.hasChildren(record.id)) throw new BuildkitError("FailedPrecondition", `${context}: other snapshots have it as parent`);
    this.#meta.delete(record.id);
    try {
      await removeSnapshotDir(this.#idDir(record.id));
    } catch (err) {
      this.#removalFailed = true;
      throw err;
    }
  }

  async stat(keyOrName: string): Promise<SnapshotInfo | undefined> {
    this.#checkOpen(`getting snapshot ${quote(keyOrName)}`);
    const record = this.#meta.get(keyOrName);
    if (!record) return undefined;
    if (record.kind === "committed" && (await this.#dropBroken(record.id)).length > 0) return undefined;
    const parent = record.parentId === null ? undefined : this.#meta.getById(record.parentId)?.name;
    return info(record, parent ?? null);
  }

  async usage(keyOrName: string): Promise<{ size: number; inodes: number }> {
    const record = this.#find(`getting usage of snapshot ${quote(keyOrName)}`, keyOrName);
    return diskUsage(this.#fs(record.id));
  }

  async list(): Promise<SnapshotInfo[]> {
    this.#checkOpen("listing snapshots");
    return this.#meta.all().map((row) => info(row, row.parentName));
  }

  unsynced(): number[] {
    this.#checkOpen("listing unsynced snapshots");
    return this.#meta.unsynced().map((r) => r.id);
  }

  markDurable(ids: readonly number[]): void {
    this.#checkOpen("recording synced snapshots");
    this.#meta.markDurable(ids);
  }

  async #dropBroken(id: number): Promise<string[]> {
    try {
      return await dropBroken(this.#meta, id, this.#heal);
    } catch (err) {
      this.#removalFailed = true;
      throw err;
    }
  }

  leftNothingBehind(): boolean {
    return !this.#closed && !this.#removalFailed && !this.#meta.hasUncommitted();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#meta.close();
  }

  #create(context: string, p: { key: string; parent: string | undefined; kind: SnapshotKind }): SnapshotRecord {
    this.#checkOpen(context);
    checkName(context, p.key);
    if (this.#meta.get(p.key)) throw new BuildkitError("AlreadyExists", `${context}: key already exists`);
    const parent = p.parent === undefined ? undefined : this.#findParent(context, p.parent);
    const record = { name: p.key, kind: p.kind, parentId: parent?.id ?? null, created: Date.now() };
    return this.#meta.insert(record, (id) => this.#makeDirs(id));
  }

  #findParent(context: string, name: string): SnapshotRecord {
    const parent = this.#meta.get(name);
    if (!parent) throw new BuildkitError("NotFound", `${context}: parent ${quote(name)} not found`);
    if (parent.kind !== "committed") throw new BuildkitError("FailedPrecondition", `${context}: parent ${quote(name)} is not committed`);
    return parent;
  }

  /** Runs inside the insert's transaction: if a mkdir fails, the record is rolled back. */
  #makeDirs(id: number): void {
    const dir = this.#idDir(id);
    try {
      // Not recursive for the id dir: an existing one would be someone else's data.
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      throw new BuildkitError("Internal", `making directory of snapshot ${id}: ${message(err)}`, { cause: err });
    }
    try {
      mkdirSync(this.#fs(id), { mode: 0o755 });
      mkdirSync(join(dir, "work"), { mode: 0o700 });
    } catch (err) {
      // The rolled-back id can be handed out again: leave no directory behind under it.
      rmSync(dir, { recursive: true, force: true });
      throw new BuildkitError("Internal", `making directories of snapshot ${id}: ${message(err)}`, { cause: err });
    }
  }

  async #mounts(record: SnapshotRecord): Promise<Mount[]> {
    const lowers = await this.#flattener.lowerDirs(
      this.#meta
        .chain(record.id)
        .slice(1)
        .map((r) => r.id),
    );
    if (record.kind === "view") return this.#viewMounts(record, lowers);
    if (lowers.length === 0) return [{ type: "bind", source: this.#fs(record.id), options: ["rbind", "rw"] }];
    const work = join(this.#idDir(record.id), "work");
    const options = [`workdir=${work}`, `upperdir=${this.#fs(record.id)}`, `lowerdir=${lowers.join(":")}`];
    return [{ type: "overlay", source: "overlay", options: this.#volatile ? [...options, VOLATILE] : options }];
  }

  #viewMounts(record: SnapshotRecord, lowers: string[]): Mount[] {
    // No parent: the view's own, empty fs dir.
    return viewOf(lowers.length > 0 ? lowers : [this.#fs(record.id)]);
  }

  #find(context: string, keyOrName: string): SnapshotRecord {
    this.#checkOpen(context);
    const record = this.#meta.get(keyOrName);
    if (!record) throw new BuildkitError("NotFound", `${context}: ${quote(keyOrName)} not found`);
    return record;
  }

  #checkOpen(context: string): void {
    if (this.#closed) throw new BuildkitError("Unavailable", `${context}: snapshotter is closed`);
  }

  #idDir(id: number): string {
    return join(this.#dir, String(id));
  }

  #fs(id: number): string {
    return join(this.#idDir(id), "fs");
  }
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

function checkName(context: string, name: string): void {
  if (name === "") throw new BuildkitError("InvalidArgument", `${context}: empty key or name`);
}

function info(record: SnapshotRecord, parent: string | null): SnapshotInfo {
  const base = { name: record.name, kind: record.kind, created: record.created };
  return parent === null ? base : { ...base, parent };
}
