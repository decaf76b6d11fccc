/**
 * Opening one of the state root's SQLite databases so that a damaged file does not stop every
 * later command: when the file is not a database or is corrupt, it is moved aside as
 * `NAME.corrupt-<time>` (its -wal and -shm files with it), a one-line warning goes to stderr,
 * and a new, empty database is made in its place. What it indexed is rebuilt as builds run.
 */
import { Database } from "bun:sqlite";
import { existsSync, renameSync } from "node:fs";
import { BuildkitError } from "../errors.ts";

export interface OpenDatabaseOptions {
  readonly safeIntegers?: boolean;
  /** Where the warning goes (stderr by default). */
  readonly warn?: (line: string) => void;
  /** Told when a damaged file was moved aside and an empty database made in its place. */
  readonly onDamaged?: (aside: string) => void;
}

/** SQLite's words for a file that is not (or no longer) a database. */
const DAMAGED = new Set(["SQLITE_NOTADB", "SQLITE_CORRUPT"]);

export function isDamagedDatabase(err: unknown): boolean {
  return err instanceof Error && "code" in err && typeof err.code === "string" && DAMAGED.has(err.code.split("_").slice(0, 2).join("_"));
}

/**
 * Opens path (creating it) and runs init on it (pragmas, schema); on damage, moves the file
 * aside and opens a fresh one. Other errors (permissions, a newer schema) are thrown as they are.
 */
export function openDatabase(path: string, init: (db: Database) => void, opts: OpenDatabaseOptions = {}): Database {
  try {
    return openAndInit(path, init, opts);
  } catch (err) {
    if (path === ":memory:" || !isDamagedDatabase(err)) throw err;
    const aside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, "")}`;
    for (const suffix of ["", "-wal", "-shm"]) if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
    const warn = opts.warn ?? ((line: string) => void process.stderr.write(line));
    warn(`warning: ${path} is damaged (${err instanceof Error ? err.message : String(err)}): moved to ${aside}, starting with an empty one\n`);
    opts.onDamaged?.(aside);
    return openAndInit(path, init, opts);
  }
}

function openAndInit(path: string, init: (db: Database) => void, opts: OpenDatabaseOptions): Database {
  const db = new Database(path, { create: true, strict: true, safeIntegers: opts.safeIntegers });
  try {
    init(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The schema version a database records in `PRAGMA user_version` (0 for a new one). */
function userVersion(db: Database): number {
  return db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
}

/**
 * Brings db to schema `version`: `upgrade(current)` and the new user_version in one IMMEDIATE
 * transaction. A database already there is only read (a write at every open would also make
 * every close checkpoint the WAL); one newer than this build is refused rather than misread
 * (`what` names it in that error).
 */
export function migrateSchema(db: Database, version: number, what: string, upgrade: (current: number) => void): void {
  if (userVersion(db) === version) return;
  db.transaction(() => {
    const current = userVersion(db);
    if (current > version) throw new BuildkitError("FailedPrecondition", `opening ${what}: schema version ${current} is newer than this build's ${version}`);
    upgrade(current);
    db.run(`PRAGMA user_version = ${version}`);
  }).immediate();
}
