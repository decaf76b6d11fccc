// The overlay snapshotter's records in bun:sqlite: which id (directory) a key or name stands
// for, its kind and parent. Every write is one transaction; WAL keeps readers off the writer.
// A committed record also says whether its data is known to be on disk (durable) and, until it
// is, which boot wrote it: see ../durability.ts.
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { migrateSchema, openDatabase } from "../../../core/sqlite/open-database.ts";
import type { SnapshotInfo } from "../../../core/worker/snapshotter.ts";

export type SnapshotKind = SnapshotInfo["kind"];

export interface SnapshotRecord {
  readonly id: number;
  readonly name: string;
  readonly kind: SnapshotKind;
  readonly parentId: number | null;
  readonly created: number;
}

export interface UnsyncedRecord {
  readonly id: number;
  /** The boot that wrote it; null only in a record altered by hand. */
  readonly bootId: string | null;
}

export interface SnapshotRow extends SnapshotRecord {
  readonly parentName: string | null;
}

// AUTOINCREMENT: an id is never handed out twice, so a directory left behind by a removed
// record (crash between the delete and the rm -rf) can never be mistaken for a new snapshot's.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS snapshots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('active', 'view', 'committed')),
  parent_id INTEGER REFERENCES snapshots(id),
  created INTEGER NOT NULL,
  durable INTEGER NOT NULL DEFAULT 1,
  boot_id TEXT
);
CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent_id);
CREATE INDEX IF NOT EXISTS snapshots_unsynced ON snapshots(id) WHERE durable = 0;
`;

const COLUMNS = "id, name, kind, parent_id AS parentId, created";

export class SnapshotMetadata {
  readonly #db: Database;
  /** The database was made by this open (none was there, or a damaged one was moved aside). */
  readonly fresh: boolean;

  constructor(path: string) {
    let fresh = !existsSync(path);
    // A damaged file is moved aside: every snapshot directory then reads as an orphan and is swept.
    this.#db = openDatabase(path, (db) => {
      db.run("PRAGMA journal_mode = WAL");
      db.run("PRAGMA synchronous = NORMAL");
      db.run("PRAGMA foreign_keys = ON");
      db.run("PRAGMA busy_timeout = 5000");
      migrate(db, path);
    }, { onDamaged: () => void (fresh = true) });
    this.fresh = fresh;
  }

  /** Whether any active or view record is left (they belong to the process that made them). */
  hasUncommitted(): boolean {
    return this.#db.query("SELECT 1 FROM snapshots WHERE kind != 'committed' LIMIT 1").get() !== null;
  }

  get(name: string): SnapshotRecord | undefined {
    return this.#db.query<SnapshotRecord, [string]>(`SELECT ${COLUMNS} FROM snapshots WHERE name = ?`).get(name) ?? undefined;
  }

  getById(id: number): SnapshotRecord | undefined {
    return this.#db.query<SnapshotRecord, [number]>(`SELECT ${COLUMNS} FROM snapshots WHERE id = ?`).get(id) ?? undefined;
  }

  /**
   * Inserts a record and runs create(id) (making its directories) inside the same transaction:
   * when create throws, the record is rolled back.
   */
  insert(record: Omit<SnapshotRecord, "id">, create: (id: number) => void): SnapshotRecord {
    return this.#db.transaction(() => {
      const { id } = this.#db
        .query<{ id: number }, [string, string, number | null, number]>(
          "INSERT INTO snapshots (name, kind, parent_id, created) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .get(record.name, record.kind, record.parentId, record.created) ?? { id: -1 };
      create(id);
      return { ...record, id };
    })();
  }

  /** The record with id and its ancestors, nearest first. */
  chain(id: number): SnapshotRecord[] {
    return this.#db
      .query<SnapshotRecord & { depth: number }, [number]>(
        `WITH RECURSIVE chain(id, depth) AS (
           SELECT ?, 0
           UNION ALL
           SELECT s.parent_id, c.depth + 1 FROM snapshots s JOIN chain c ON s.id = c.id WHERE s.parent_id IS NOT NULL
         )
         SELECT s.id, s.name, s.kind, s.parent_id AS parentId, s.created, c.depth
         FROM chain c JOIN snapshots s ON s.id = c.id ORDER BY c.depth`,
      )
      .all(id);
  }

  /** The record with id and every record stacked on it, at any depth. */
  descendants(id: number): SnapshotRecord[] {
    return this.#db
      .query<SnapshotRecord, [number]>(
        `WITH RECURSIVE tree(id) AS (
           SELECT ?
           UNION ALL
           SELECT s.id FROM snapshots s JOIN tree t ON s.parent_id = t.id
         )
         SELECT ${COLUMNS} FROM snapshots WHERE id IN (SELECT id FROM tree)`,
      )
      .all(id);
  }

  /** Deletes records in one transaction (children and parents together). */
  deleteMany(ids: readonly number[]): void {
    this.#db.transaction(() => {
      for (const id of ids) this.#db.query("UPDATE snapshots SET parent_id = NULL WHERE id = ?").run(id);
      for (const id of ids) this.#db.query("DELETE FROM snapshots WHERE id = ?").run(id);
    })();
  }

  hasChildren(id: number): boolean {
    return this.#db.query<{ n: number }, [number]>("SELECT 1 AS n FROM snapshots WHERE parent_id = ? LIMIT 1").get(id) !== null;
  }

  /** Makes active record id committed under name, written by boot bootId and not yet synced. */
  commit(id: number, name: string, bootId: string): void {
    this.#db.query("UPDATE snapshots SET name = ?, kind = 'committed', durable = 0, boot_id = ? WHERE id = ?").run(name, bootId, id);
  }

  /** Committed records whose data is not yet known to be on disk, with the boot that wrote them. */
  unsynced(): UnsyncedRecord[] {
    return this.#db.query<UnsyncedRecord, []>("SELECT id, boot_id AS bootId FROM snapshots WHERE durable = 0").all();
  }

  /** Records ids as durable (their data was synced), in one statement. */
  markDurable(ids: readonly number[]): void {
    if (ids.length === 0) return;
    this.#db.query("UPDATE snapshots SET durable = 1 WHERE durable = 0 AND id IN (SELECT value FROM json_each(?))").run(JSON.stringify(ids));
  }

  delete(id: number): void {
    this.#db.query("DELETE FROM snapshots WHERE id = ?").run(id);
  }

  /** Every record, with its parent's name. */
  all(): SnapshotRow[] {
    return this.#db
      .query<SnapshotRow, []>(
        `SELECT s.id, s.name, s.kind, s.parent_id AS parentId, s.created, p.name AS parentName
         FROM snapshots s LEFT JOIN snapshots p ON p.id = s.parent_id ORDER BY s.id`,
      )
      .all();
  }

  /** Deletes every active and view record (left by a process that stopped); returns their ids. */
  deleteUncommitted(): number[] {
    return this.#db.transaction(() =>
      this.#db
        .query<{ id: number }, []>("DELETE FROM snapshots WHERE kind != 'committed' RETURNING id")
        .all()
        .map((r) => r.id),
    )();
  }

  ids(): Set<number> {
    return new Set(this.#db.query<{ id: number }, []>("SELECT id FROM snapshots").all().map((r) => r.id));
  }

  close(): void {
    this.#db.close();
  }
}

/**
 * The schema's version in `PRAGMA user_version`: 1 is SCHEMA. Databases made before it was
 * recorded read 0; their table is brought up to it (the durability columns) once.
 */
const SCHEMA_VERSION = 1;

/** Brings the database to SCHEMA_VERSION (migrateSchema: a current one is only read, a newer one refused). */
function migrate(db: Database, path: string): void {
  migrateSchema(db, SCHEMA_VERSION, `snapshot metadata ${path}`, () => {
    addDurabilityColumns(db);
    db.run(SCHEMA);
  });
}

/**
 * Adds the durability columns to a database made before they existed. Its records read as
 * durable: nothing says otherwise, and dropping a whole cache on upgrade would be worse.
 */
function addDurabilityColumns(db: Database): void {
  const columns = db.query<{ name: string }, []>("PRAGMA table_info(snapshots)").all().map((c) => c.name);
  // No table yet (SCHEMA makes it with the columns), or already there.
  if (columns.length === 0 || columns.includes("durable")) return;
  db.run("ALTER TABLE snapshots ADD COLUMN durable INTEGER NOT NULL DEFAULT 1");
  db.run("ALTER TABLE snapshots ADD COLUMN boot_id TEXT");
}
