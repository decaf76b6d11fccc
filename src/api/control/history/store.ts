/**
 * Where the daemon keeps its build history (BuildKit v0.11's history queue): one record per
 * finished build, as the BuildHistoryRecord message bytes, in ROOT/history/history.db, and the
 * blobs records point at (a build's progress log, its provenance) content-addressed under
 * ROOT/history/blobs/sha256/. A blob goes with the last record that names it.
 */
import type { Database } from "bun:sqlite";
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { openDatabase, migrateSchema } from "../../../core/sqlite/open-database.ts";
import { apiPb } from "../../pb/index.ts";

const v1 = apiPb.moby.buildkit.v1;
export type HistoryRecord = apiPb.moby.buildkit.v1.BuildHistoryRecord.$Properties;
export type PbDescriptor = apiPb.moby.buildkit.v1.Descriptor.$Properties;

const SCHEMA_VERSION = 1;
/** Blobs being written are named so until they are complete. */
const TEMP_PREFIX = ".tmp-";

/** The digests a record's blobs have (logs, trace, results' and attestations' descriptors). */
export function blobsOf(r: HistoryRecord): string[] {
  const infos = [r.Result, ...Object.values(r.Results ?? {})].filter((i) => i != null);
  const descs = [r.logs, r.trace, ...infos.flatMap((i) => [i.Result, ...(i.Attestations ?? [])])];
  return descs.flatMap((d) => (d?.digest ? [d.digest] : []));
}

export class HistoryStore {
  readonly #db: Database;
  readonly #blobs: string;

  constructor(root: string) {
    const dir = join(root, "history");
    this.#blobs = join(dir, "blobs", "sha256");
    mkdirSync(this.#blobs, { recursive: true });
    // A log being written when the daemon died: the daemon holds the root alone, so none is live.
    for (const name of readdirSync(this.#blobs)) if (name.startsWith(TEMP_PREFIX)) rmSync(join(this.#blobs, name), { force: true });
    this.#db = openDatabase(join(dir, "history.db"), (db) => {
      db.run("PRAGMA journal_mode = WAL");
      db.run("PRAGMA synchronous = NORMAL");
      migrateSchema(db, SCHEMA_VERSION, "the build history", () => {
        db.run("CREATE TABLE IF NOT EXISTS records (ref TEXT PRIMARY KEY, completed_at INTEGER NOT NULL, pinned INTEGER NOT NULL, record BLOB NOT NULL)");
      });
    });
  }

  put(r: HistoryRecord): void {
    const completed = Number(r.CompletedAt?.seconds ?? 0) * 1000;
    this.#db.query("INSERT OR REPLACE INTO records (ref, completed_at, pinned, record) VALUES (?, ?, ?, ?)").run(r.Ref ?? "", completed, r.pinned ? 1 : 0, v1.BuildHistoryRecord.encode(r).finish());
  }

  get(ref: string): HistoryRecord | undefined {
    const row = this.#db.query<{ record: Uint8Array }, [string]>("SELECT record FROM records WHERE ref = ?").get(ref);
    return row ? decode(row.record) : undefined;
  }

  /** Every record, by ref (the order BuildKit's bolt bucket lists them in). */
  list(): HistoryRecord[] {
    return this.#db.query<{ record: Uint8Array }, []>("SELECT record FROM records ORDER BY ref").all().map((r) => decode(r.record));
  }

  /** Removes a record, and the blobs no other record names. */
  delete(ref: string): boolean {
    const r = this.get(ref);
    if (!r) return false;
    this.#db.query("DELETE FROM records WHERE ref = ?").run(ref);
    const still = new Set(this.list().flatMap(blobsOf));
    for (const digest of blobsOf(r)) if (!still.has(digest)) rmSync(this.blobPath(digest), { force: true });
    return true;
  }

  /** The unpinned records past the newest maxEntries that completed before maxAgeMs ago (BuildKit's history GC). */
  collect(maxEntries: number, maxAgeMs: number, now = Date.now()): string[] {
    const unpinned = this.#db.query<{ ref: string; completed_at: number }, []>("SELECT ref, completed_at FROM records WHERE pinned = 0 ORDER BY completed_at DESC").all();
    if (unpinned.length < maxEntries) return [];
    const gone = unpinned.slice(maxEntries).filter((r) => r.completed_at < now - maxAgeMs).map((r) => r.ref);
    for (const ref of gone) this.delete(ref);
    return gone;
  }

  /** A blob's path by digest ("sha256:HEX"); undefined for anything else. */
  blobPath(digest: string): string {
    const hex = /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];
    return hex ? join(this.#blobs, hex) : join(this.#blobs, "invalid");
  }

  /** A blob's size, or undefined when this history has no such blob. */
  blobSize(digest: string): number | undefined {
    try {
      return statSync(this.blobPath(digest)).size;
    } catch {
      return undefined;
    }
  }

  /** A writer for a new blob; commit() hashes it and moves it into place. */
  openBlob(): BlobWriter {
    return new BlobWriter(this.#blobs);
  }

  close(): void {
    this.#db.close();
  }
}

function decode(bytes: Uint8Array): HistoryRecord {
  return v1.BuildHistoryRecord.decode(bytes) as HistoryRecord;
}

/** A blob being written: appended to a temporary file while hashing, named by its digest at commit. */
export class BlobWriter {
  readonly #dir: string;
  readonly #temp: string;
  readonly #fd: number;
  readonly #hash = new Bun.CryptoHasher("sha256");
  #size = 0;
  #done = false;

  constructor(dir: string) {
    this.#dir = dir;
    this.#temp = join(dir, `${TEMP_PREFIX}${crypto.randomUUID()}`);
    this.#fd = openSync(this.#temp, "w", 0o600);
  }

  write(bytes: Uint8Array): void {
    if (this.#done) return;
    writeSync(this.#fd, bytes);
    this.#hash.update(bytes);
    this.#size += bytes.byteLength;
  }

  commit(mediaType: string, annotations: Record<string, string> = {}): PbDescriptor {
    this.#done = true;
    closeSync(this.#fd);
    const digest = `sha256:${this.#hash.digest("hex")}`;
    renameSync(this.#temp, join(this.#dir, digest.slice("sha256:".length)));
    return { media_type: mediaType, digest, size: this.#size, ...(Object.keys(annotations).length ? { annotations } : {}) };
  }

  discard(): void {
    if (this.#done) return;
    this.#done = true;
    closeSync(this.#fd);
    rmSync(this.#temp, { force: true });
  }
}
