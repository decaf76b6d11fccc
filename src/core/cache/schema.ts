/**
 * The cache index's SQLite schema, versioned with `PRAGMA user_version`. Migration n takes the
 * database from version n to n + 1; they run in one transaction at open. A database newer than
 * this code is refused rather than misread.
 */
import type { Database } from "bun:sqlite";
import { migrateSchema } from "../sqlite/open-database.ts";

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE results (
    id          TEXT PRIMARY KEY,
    created     INTEGER NOT NULL,
    last_used   INTEGER NOT NULL,
    usage_count INTEGER NOT NULL DEFAULT 0,
    size        INTEGER,
    description TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL DEFAULT ''
  ) WITHOUT ROWID;
  CREATE TABLE result_parents (
    id       TEXT NOT NULL REFERENCES results(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    parent   TEXT NOT NULL,
    PRIMARY KEY (id, position)
  ) WITHOUT ROWID;
  CREATE INDEX result_parents_by_parent ON result_parents(parent);
  CREATE TABLE cache_keys (
    key       TEXT NOT NULL,
    output    INTEGER NOT NULL,
    result_id TEXT NOT NULL REFERENCES results(id) ON DELETE CASCADE,
    created   INTEGER NOT NULL,
    PRIMARY KEY (key, output)
  ) WITHOUT ROWID;
  CREATE INDEX cache_keys_by_result ON cache_keys(result_id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to SCHEMA_VERSION (sqlite/open-database.ts's migrateSchema). */
export function migrate(db: Database, path: string): void {
  migrateSchema(db, SCHEMA_VERSION, `cache index ${path}`, (current) => {
    for (const sql of MIGRATIONS.slice(current)) db.run(sql);
  });
}
