/**
 * The persistent stat cache of local sources: for (absolute root, relative path) the lstat facts
 * seen when the file was last hashed, and its content digest. A file whose size, mtime, ctime,
 * inode, device and mode still match is not read again (ctime too: a tool that writes a file and
 * sets its mtime back, like `cp -p` or `tar x`, cannot set ctime back). One bun:sqlite database (WAL) at a path the
 * caller chooses, and tree stamps in files beside it; several processes may share them.
 */
import type { Database } from "bun:sqlite";
import { openDatabase } from "../../sqlite/open-database.ts";
import type { Digest } from "../../digest.ts";
import { withContext } from "../../errors.ts";
import type { TreeRecords } from "./tree-records.ts";
import { TreeStampFiles } from "./tree-stamps.ts";
import { CopyRecordFiles } from "./copy-records.ts";
import type { CopyRecords } from "./copy-records.ts";

export interface StatRecord {
  readonly size: number;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
  readonly dev: bigint;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly linkTarget?: string;
  readonly contentDigest?: Digest;
}

export interface StatCacheUpdate {
  readonly put?: Iterable<readonly [path: string, record: StatRecord]>;
  readonly remove?: Iterable<string>;
}

/**
 * What one whole checksum of a tree found: a digest of every walked entry's stat facts (the
 * stamp) and the tree's content digest. A later walk with the same stamp has the same content.
 */
export interface TreeStamp {
  readonly stamp: string;
  readonly digest: Digest;
  readonly files: number;
  readonly bytes: number;
}

export interface StatCache {
  /** Every record of `root`, by relative path: one query for a whole walk. */
  load(root: string): Map<string, StatRecord>;
  get(root: string, path: string): StatRecord | undefined;
  /** Applies puts and removals for `root` in one transaction. */
  update(root: string, update: StatCacheUpdate): void;
  /** The snapshot last copied for `key` (a local source's directory) and what its files came from. */
  lastCopy(key: string): { snapshot: string; records: CopyRecords } | undefined;
  /** The snapshot of {@link lastCopy} alone: its records are not decoded. */
  lastCopySnapshot(key: string): string | undefined;
  /** Records a new copy for `key`, replacing (and forgetting the records of) the previous one. */
  setLastCopy(key: string, snapshot: string, records: CopyRecords): void;
  /** The stamp last saved for `key` (a root and its filters). */
  treeStamp(key: string): TreeStamp | undefined;
  setTreeStamp(key: string, stamp: TreeStamp): void;
  /** What the checksum that saved the stamp for `key` saw, entry by entry (tree-records.ts). */
  treeRecords(key: string): TreeRecords | undefined;
  /** Saves tree records (tree-records.ts's encodeTreeRecords) for `key`. */
  setTreeRecords(key: string, data: Uint8Array): void;
  close(): void;
}

/** 5: the tree stamps moved out to files (tree-stamps.ts); 7: copy records as walk records, in files (copy-records.ts). */
const SCHEMA_VERSION = 7n;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS local_roots (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS local_stat (
  root_id INTEGER NOT NULL REFERENCES local_roots(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  ctime_ns INTEGER NOT NULL,
  ino INTEGER NOT NULL,
  dev INTEGER NOT NULL,
  mode INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  gid INTEGER NOT NULL,
  link_target TEXT,
  content_digest TEXT,
  PRIMARY KEY (root_id, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS local_copies (
  key TEXT PRIMARY KEY,
  snapshot TEXT NOT NULL
);
`;

/**
 * The stat cache with its database at `path` (created when needed). The database is opened on
 * first use of records or copies; tree stamps and tree records live in files beside it
 * (`PATH.stamps/`, tree-stamps.ts), so a build over an unchanged directory never opens it, and
 * so do the copies' records (`PATH.copies/`, copy-records.ts).
 */
export function openStatCache(path: string): StatCache {
  const stamps = new TreeStampFiles(`${path}.stamps`);
  const copies = new CopyRecordFiles(`${path}.copies`);
  let opened: SqliteStatCache | undefined;
  const db = (): SqliteStatCache => (opened ??= openSqliteStatCache(path));
  return {
    load: (root) => db().load(root),
    get: (root, path) => db().get(root, path),
    update: (root, update) => db().update(root, update),
    lastCopy: (key) => {
      const snapshot = db().lastCopySnapshot(key);
      const records = snapshot === undefined ? undefined : copies.get(key, snapshot);
      return snapshot !== undefined && records !== undefined ? { snapshot, records } : undefined;
    },
    lastCopySnapshot: (key) => db().lastCopySnapshot(key),
    // The records first: a row naming the new snapshot always has them (unless damaged since).
    setLastCopy: (key, snapshot, records) => {
      copies.set(key, snapshot, records);
      db().setLastCopySnapshot(key, snapshot);
    },
    treeStamp: (key) => stamps.get(key),
    setTreeStamp: (key, stamp) => stamps.set(key, stamp),
    treeRecords: (key) => stamps.records(key),
    setTreeRecords: (key, data) => stamps.setRecords(key, data),
    close: () => {
      opened?.close();
      opened = undefined;
    },
  };
}

function openSqliteStatCache(path: string): SqliteStatCache {
  try {
    let cache: SqliteStatCache | undefined;
    openDatabase(path, (db) => void (cache = new SqliteStatCache(db)), { safeIntegers: true });
    return cache as SqliteStatCache;
  } catch (err) {
    throw withContext(`opening stat cache ${path}`, err);
  }
}

interface Row {
  path: string;
  size: bigint;
  mtime_ns: bigint;
  ctime_ns: bigint;
  ino: bigint;
  dev: bigint;
  mode: bigint;
  uid: bigint;
  gid: bigint;
  link_target: string | null;
  content_digest: string | null;
}

type Params = Record<string, string | bigint | null>;
type PutParams = [bigint, string, number, bigint, bigint, bigint, bigint, number, number, number, string | null, string | null];

const COLUMNS = "path, size, mtime_ns, ctime_ns, ino, dev, mode, uid, gid, link_target, content_digest";

/** Records and copies; the stamps are tree-stamps.ts's. */
class SqliteStatCache implements Omit<StatCache, "treeStamp" | "setTreeStamp" | "treeRecords" | "setTreeRecords" | "lastCopy" | "setLastCopy"> {
  readonly #db: Database;
  readonly #roots = new Map<string, bigint>();

  constructor(db: Database) {
    this.#db = db;
    db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA synchronous = NORMAL");
    db.run("PRAGMA busy_timeout = 5000");
    db.run("PRAGMA foreign_keys = ON");
    // A cache: an older layout is dropped, not migrated.
    const version = db.query<{ user_version: bigint }, []>("PRAGMA user_version").get()?.user_version;
    if (version !== SCHEMA_VERSION) {
      db.transaction(() => {
        db.run("DROP TABLE IF EXISTS local_stat");
        db.run("DROP TABLE IF EXISTS local_roots");
        db.run("DROP TABLE IF EXISTS local_copies");
        db.run("DROP TABLE IF EXISTS local_stamps");
        db.run(SCHEMA);
        db.run(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      })();
    }
  }

  load(root: string): Map<string, StatRecord> {
    const records = new Map<string, StatRecord>();
    const id = this.#rootId(root, false);
    if (id === undefined) return records;
    const rows = this.#db.query<Row, Params>(`SELECT ${COLUMNS} FROM local_stat WHERE root_id = $id`).all({ id });
    for (const row of rows) records.set(row.path, fromRow(row));
    return records;
  }

  get(root: string, path: string): StatRecord | undefined {
    const id = this.#rootId(root, false);
    if (id === undefined) return undefined;
    const row = this.#db
      .query<Row, Params>(`SELECT ${COLUMNS} FROM local_stat WHERE root_id = $id AND path = $path`)
      .get({ id, path });
    return row ? fromRow(row) : undefined;
  }

  update(root: string, update: StatCacheUpdate): void {
    const put = this.#db.query<never, PutParams>(
      `INSERT OR REPLACE INTO local_stat (root_id, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const remove = this.#db.query<never, [bigint, string]>("DELETE FROM local_stat WHERE root_id = ? AND path = ?");
    const apply = this.#db.transaction(() => {
      const id = this.#rootId(root, true) ?? 0n;
      for (const [path, r] of update.put ?? []) {
        put.run(id, path, r.size, r.mtimeNs, r.ctimeNs, toSigned(r.ino), toSigned(r.dev), r.mode, r.uid, r.gid, r.linkTarget ?? null, r.contentDigest ?? null);
      }
      for (const path of update.remove ?? []) remove.run(id, path);
    });
    try {
      apply();
    } catch (err) {
      throw withContext(`updating stat cache for ${root}`, err);
    }
  }

  lastCopySnapshot(key: string): string | undefined {
    return this.#db.query<{ snapshot: string }, Params>("SELECT snapshot FROM local_copies WHERE key = $key").get({ key })?.snapshot;
  }

  setLastCopySnapshot(key: string, snapshot: string): void {
    try {
      this.#db.query<never, Record<string, string>>("INSERT OR REPLACE INTO local_copies (key, snapshot) VALUES ($key, $snapshot)").run({ key, snapshot });
    } catch (err) {
      throw withContext(`recording local copy ${snapshot}`, err);
    }
  }

  close(): void {
    this.#db.close();
  }

  #rootId(root: string, create: boolean): bigint | undefined {
    const known = this.#roots.get(root);
    if (known !== undefined) return known;
    if (create) this.#db.query<never, Params>("INSERT OR IGNORE INTO local_roots (path) VALUES ($root)").run({ root });
    const row = this.#db.query<{ id: bigint }, Params>("SELECT id FROM local_roots WHERE path = $root").get({ root });
    if (row) this.#roots.set(root, row.id);
    return row?.id;
  }
}

// SQLite integers are signed 64-bit: inode and device numbers may use the top bit.
const toSigned = (n: bigint) => (n >= 1n << 63n ? BigInt.asIntN(64, n) : n);
const toUnsigned = (n: bigint) => BigInt.asUintN(64, n);

function fromRow(row: Row): StatRecord {
  // One literal, no spreads: this runs once per file of the tree on every check.
  return {
    size: Number(row.size),
    mtimeNs: row.mtime_ns,
    ctimeNs: row.ctime_ns,
    ino: row.ino < 0n ? toUnsigned(row.ino) : row.ino,
    dev: row.dev < 0n ? toUnsigned(row.dev) : row.dev,
    mode: Number(row.mode),
    uid: Number(row.uid),
    gid: Number(row.gid),
    linkTarget: row.link_target ?? undefined,
    contentDigest: (row.content_digest ?? undefined) as Digest | undefined,
  };
}
