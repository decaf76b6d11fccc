/**
 * What the content store knows beyond bytes (ROOT/content/index.db, bun:sqlite, WAL):
 *
 * - layers: the blob a snapshot's diff against its parent became, per compression and level,
 *   so exporting the same result again reuses the blob instead of diffing and compressing;
 *   `hits` counts the reuses (evidence for tests and `du`-like tools).
 * - blob_sources: repositories a blob is known to be in (pushed there, or pulled from there),
 *   so a push to another repository of the same registry can mount it instead of uploading.
 */
import type { Database } from "bun:sqlite";
import { openDatabase } from "../sqlite/open-database.ts";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Digest } from "../digest.ts";
import { BuildkitError } from "../errors.ts";
import type { Compression } from "../image/compression.ts";

export interface LayerKey {
  readonly snapshot: string;
  readonly compression: Compression;
  /** Compression level; 0 for the default. */
  readonly level: number;
}

export interface LayerRecord {
  readonly digest: Digest;
  readonly diffID: Digest;
  readonly size: number;
  /** The diff against the parent was empty: no layer in the image, an empty_layer history entry. */
  readonly empty: boolean;
}

interface LayerRow {
  digest: string;
  diff_id: string;
  size: number;
  empty: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS layers (
  snapshot TEXT NOT NULL, compression TEXT NOT NULL, level INTEGER NOT NULL,
  digest TEXT NOT NULL, diff_id TEXT NOT NULL, size INTEGER NOT NULL, empty INTEGER NOT NULL,
  hits INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL,
  PRIMARY KEY (snapshot, compression, level));
CREATE TABLE IF NOT EXISTS blob_sources (
  digest TEXT NOT NULL, domain TEXT NOT NULL, path TEXT NOT NULL, seen INTEGER NOT NULL,
  PRIMARY KEY (digest, domain, path));
CREATE TABLE IF NOT EXISTS pulled (
  digest TEXT NOT NULL, snapshot TEXT NOT NULL, PRIMARY KEY (digest, snapshot));`;

export class ContentIndex {
  readonly #db: Database;

  private constructor(db: Database) {
    this.#db = db;
  }

  /** Opens (creating when needed) the index in the content directory. */
  static open(contentDir: string): ContentIndex {
    const path = join(contentDir, "index.db");
    try {
      mkdirSync(contentDir, { recursive: true });
      const db = openDatabase(path, (db) => {
        db.run("PRAGMA journal_mode = WAL");
        db.run("PRAGMA busy_timeout = 5000");
        db.run(SCHEMA);
      });
      return new ContentIndex(db);
    } catch (err) {
      throw new BuildkitError("Unavailable", `opening content index ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  layer(key: LayerKey): LayerRecord | undefined {
    const row = this.#db
      .query<LayerRow, [string, string, number]>("SELECT digest, diff_id, size, empty FROM layers WHERE snapshot = ? AND compression = ? AND level = ?")
      .get(key.snapshot, key.compression, key.level);
    if (!row) return undefined;
    return { digest: row.digest as Digest, diffID: row.diff_id as Digest, size: row.size, empty: row.empty !== 0 };
  }

  /**
   * The snapshot's first recorded blob (the layer it was pulled from, or its first export's):
   * what BuildKit calls the ref's blob, reused by exports that do not force a compression.
   */
  firstLayer(snapshot: string): (LayerKey & LayerRecord) | undefined {
    const row = this.#db
      .query<LayerRow & { compression: string; level: number }, [string]>(
        "SELECT compression, level, digest, diff_id, size, empty FROM layers WHERE snapshot = ? ORDER BY created, rowid LIMIT 1",
      )
      .get(snapshot);
    if (!row) return undefined;
    return { snapshot, compression: row.compression as Compression, level: row.level, digest: row.digest as Digest, diffID: row.diff_id as Digest, size: row.size, empty: row.empty !== 0 };
  }

  /** Counts a reuse of a recorded layer. */
  hit(key: LayerKey): void {
    this.#db.run("UPDATE layers SET hits = hits + 1 WHERE snapshot = ? AND compression = ? AND level = ?", [key.snapshot, key.compression, key.level]);
  }

  saveLayer(key: LayerKey, record: LayerRecord): void {
    this.#db.run(
      "INSERT OR REPLACE INTO layers (snapshot, compression, level, digest, diff_id, size, empty, hits, created) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
      [key.snapshot, key.compression, key.level, record.digest, record.diffID, record.size, record.empty ? 1 : 0, Date.now()],
    );
  }

  /** Keeps a pulled image's index, manifest or config while the snapshot of its layers exists. */
  savePulled(digests: Iterable<Digest>, snapshot: string): void {
    const put = this.#db.query<never, [string, string]>("INSERT OR IGNORE INTO pulled (digest, snapshot) VALUES (?, ?)");
    this.#db.transaction(() => {
      for (const d of digests) put.run(d, snapshot);
    })();
  }

  /** Every pulled-image blob and the snapshot that keeps it. */
  pulledRows(): { readonly digest: Digest; readonly snapshot: string }[] {
    return this.#db
      .query<{ digest: string; snapshot: string }, []>("SELECT digest, snapshot FROM pulled")
      .all()
      .map((r) => ({ digest: r.digest as Digest, snapshot: r.snapshot }));
  }

  /** Records that a registry repository holds the blob. */
  addSource(digest: Digest, repo: { domain: string; path: string }): void {
    this.#db.run("INSERT OR REPLACE INTO blob_sources (digest, domain, path, seen) VALUES (?, ?, ?, ?)", [digest, repo.domain, repo.path, Date.now()]);
  }

  /** Repositories on `domain` known to hold the blob, most recently seen first. */
  sources(digest: Digest, domain: string): string[] {
    return this.#db
      .query<{ path: string }, [string, string]>("SELECT path FROM blob_sources WHERE digest = ? AND domain = ? ORDER BY seen DESC")
      .all(digest, domain)
      .map((r) => `${domain}/${r.path}`);
  }

  /** Every recorded layer: which snapshot's diff each blob is. */
  layerRows(): (LayerKey & { readonly digest: Digest })[] {
    return this.#db
      .query<{ snapshot: string; compression: string; level: number; digest: string }, []>("SELECT snapshot, compression, level, digest FROM layers")
      .all()
      .map((r) => ({ snapshot: r.snapshot, compression: r.compression as Compression, level: r.level, digest: r.digest as Digest }));
  }

  /** Forgets the layers of snapshots that are gone, and where removed blobs were seen. */
  forget(snapshots: Iterable<string>, blobs: Iterable<Digest>): void {
    const dropLayer = this.#db.query<never, [string]>("DELETE FROM layers WHERE snapshot = ?");
    const dropSource = this.#db.query<never, [string]>("DELETE FROM blob_sources WHERE digest = ?");
    const dropPulled = this.#db.query<never, [string]>("DELETE FROM pulled WHERE snapshot = ?");
    this.#db.transaction(() => {
      for (const s of snapshots) {
        dropLayer.run(s);
        dropPulled.run(s);
      }
      for (const d of blobs) dropSource.run(d);
    })();
  }

  close(): void {
    this.#db.close();
  }
}
