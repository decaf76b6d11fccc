/**
 * The persistent cache index: which result each (cache key, output index) produced, and a record
 * per result (when made and last used, how often used, size, description, kind, parents). It is
 * metadata only: result ids are opaque (a snapshotter's committed snapshot names for real ops),
 * and the store never touches the data they name. bun:sqlite in WAL mode; every write is one
 * transaction, so a crash leaves either the whole record or none of it.
 *
 * Hits (touch: last use, use count) are appended to a small file beside the database instead
 * (hits-journal.ts) and folded into it by the next write or read of records: a fully cached
 * build then writes no transaction, and its close checkpoints nothing (~6 ms of CPU here).
 */
import { Database } from "bun:sqlite";
import type { Digest } from "../digest.ts";
import { BuildkitError } from "../errors.ts";
import { openDatabase } from "../sqlite/open-database.ts";
import { HitsJournal } from "./hits-journal.ts";
import { migrate } from "./schema.ts";

/** What the solver knows about a result when it records it. */
export interface ResultMeta {
  /** Human-readable: the vertex name for solver results. */
  readonly description?: string;
  /** What made it: an op type ("exec", "source", …) or another producer's word. */
  readonly kind?: string;
  /** Bytes used, when the producer knows it. */
  readonly size?: number;
  /** Result ids this one was made from, in input order. */
  readonly parents?: readonly string[];
}

export interface ResultRecord {
  readonly id: string;
  /** Milliseconds since the epoch. */
  readonly created: number;
  readonly lastUsed: number;
  readonly usageCount: number;
  readonly size: number | undefined;
  readonly description: string;
  readonly kind: string;
  readonly parents: readonly string[];
}

export interface CacheStore {
  /** The result recorded for output `index` of the vertex with this key; undefined on a miss. */
  lookup(key: Digest, index: number): string | undefined;
  /** Records that output `index` of key is resultId (replacing an older record for the key). */
  save(key: Digest, index: number, resultId: string, meta?: ResultMeta): void;
  /** Marks results as used now: last-used time and usage count. Unknown ids are ignored. */
  touch(resultIds: readonly string[]): void;
  /** Updates a result's size once the producer has measured it. */
  setSize(resultId: string, size: number): void;
  get(resultId: string): ResultRecord | undefined;
  /** Every result record, least recently used first. */
  list(): ResultRecord[];
  /** Forgets a result and every key pointing at it; false when it was not there. */
  remove(resultId: string): boolean;
  close(): void;
}

export interface OpenCacheStoreOptions {
  /** Clock in milliseconds since the epoch (tests). */
  readonly now?: () => number;
}

interface ResultRow {
  id: string;
  created: number;
  last_used: number;
  usage_count: number;
  size: number | null;
  description: string;
  kind: string;
}

/** Opens (creating if needed) the cache index at path; ":memory:" for a throwaway one. */
export function openCacheStore(path: string, opts: OpenCacheStoreOptions = {}): CacheStore {
  let db: Database;
  try {
    db = openDatabase(path, (db) => {
      db.run("PRAGMA journal_mode = WAL");
      db.run("PRAGMA synchronous = NORMAL");
      db.run("PRAGMA foreign_keys = ON");
      db.run("PRAGMA busy_timeout = 5000");
      migrate(db, path);
    });
  } catch (err) {
    if (err instanceof BuildkitError) throw err;
    throw new BuildkitError("Unavailable", `opening cache index ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return new SqliteCacheStore(db, opts.now ?? Date.now, path === ":memory:" ? undefined : new HitsJournal(`${path}.hits`));
}

const SQL = {
  lookup: "SELECT result_id FROM cache_keys WHERE key = ? AND output = ?",
  saveResult: `INSERT INTO results (id, created, last_used, usage_count, size, description, kind) VALUES (?1, ?2, ?2, 1, ?3, ?4, ?5)
    ON CONFLICT (id) DO UPDATE SET last_used = excluded.last_used, size = coalesce(excluded.size, size),
      description = CASE WHEN excluded.description = '' THEN description ELSE excluded.description END,
      kind = CASE WHEN excluded.kind = '' THEN kind ELSE excluded.kind END`,
  clearParents: "DELETE FROM result_parents WHERE id = ?",
  saveParent: "INSERT INTO result_parents (id, position, parent) VALUES (?, ?, ?)",
  saveKey: `INSERT INTO cache_keys (key, output, result_id, created) VALUES (?, ?, ?, ?)
    ON CONFLICT (key, output) DO UPDATE SET result_id = excluded.result_id, created = excluded.created`,
  touch: "UPDATE results SET last_used = ?, usage_count = usage_count + 1 WHERE id = ?",
  touchAt: "UPDATE results SET last_used = max(last_used, ?), usage_count = usage_count + 1 WHERE id = ?",
  setSize: "UPDATE results SET size = ? WHERE id = ?",
  get: "SELECT * FROM results WHERE id = ?",
  list: "SELECT * FROM results ORDER BY last_used, id",
  parents: "SELECT parent FROM result_parents WHERE id = ? ORDER BY position",
  remove: "DELETE FROM results WHERE id = ?",
} as const;

class SqliteCacheStore implements CacheStore {
  readonly #db: Database;
  readonly #now: () => number;
  readonly #lookup;
  readonly #parents;
  readonly #save;
  readonly #touch;
  readonly #setSize;
  readonly #get;
  readonly #list;
  readonly #remove;
  readonly #hits: HitsJournal | undefined;
  readonly #applyHits;

  constructor(db: Database, now: () => number, hits: HitsJournal | undefined) {
    this.#db = db;
    this.#now = now;
    this.#hits = hits;
    this.#lookup = db.query<{ result_id: string }, [string, number]>(SQL.lookup);
    this.#parents = db.query<{ parent: string }, [string]>(SQL.parents);
    const saveResult = db.query<never, [string, number, number | null, string, string]>(SQL.saveResult);
    const clearParents = db.query<never, [string]>(SQL.clearParents);
    const saveParent = db.query<never, [string, number, string]>(SQL.saveParent);
    const saveKey = db.query<never, [string, number, string, number]>(SQL.saveKey);
    this.#save = db.transaction((key: Digest, index: number, resultId: string, meta: ResultMeta, time: number) => {
      saveResult.run(resultId, time, meta.size ?? null, meta.description ?? "", meta.kind ?? "");
      if (meta.parents !== undefined) {
        clearParents.run(resultId);
        meta.parents.forEach((parent, position) => saveParent.run(resultId, position, parent));
      }
      saveKey.run(key, index, resultId, time);
    });
    const touch = db.query<never, [number, string]>(SQL.touch);
    this.#touch = db.transaction((ids: readonly string[], time: number) => {
      for (const id of ids) touch.run(time, id);
    });
    const touchAt = db.query<never, [number, string]>(SQL.touchAt);
    this.#applyHits = db.transaction((hits: readonly { readonly time: number; readonly id: string }[]) => {
      for (const h of hits) touchAt.run(h.time, h.id);
    });
    const setSize = db.query<never, [number, string]>(SQL.setSize);
    this.#setSize = db.transaction((id: string, size: number) => setSize.run(size, id));
    const get = db.query<ResultRow, [string]>(SQL.get);
    this.#get = db.transaction((id: string) => this.#record(get.get(id)));
    const list = db.query<ResultRow, []>(SQL.list);
    this.#list = db.transaction(() => list.all().map((row) => this.#record(row) as ResultRecord));
    const remove = db.query<never, [string]>(SQL.remove);
    this.#remove = db.transaction((id: string) => remove.run(id).changes > 0);
  }

  lookup(key: Digest, index: number): string | undefined {
    return this.#lookup.get(key, index)?.result_id;
  }

  save(key: Digest, index: number, resultId: string, meta: ResultMeta = {}): void {
    this.#foldHits();
    this.#save(key, index, resultId, meta, this.#now());
  }

  touch(resultIds: readonly string[]): void {
    if (resultIds.length === 0) return;
    const time = this.#now();
    if (this.#hits === undefined || !this.#hits.append(resultIds, time)) this.#touch(resultIds, time);
  }

  setSize(resultId: string, size: number): void {
    this.#setSize(resultId, size);
  }

  get(resultId: string): ResultRecord | undefined {
    this.#foldHits();
    return this.#get(resultId);
  }

  list(): ResultRecord[] {
    this.#foldHits();
    return this.#list();
  }

  remove(resultId: string): boolean {
    this.#foldHits();
    return this.#remove(resultId);
  }

  close(): void {
    this.#db.close();
  }

  /** Applies the journal's hits in one transaction, then empties it (see the file comment). */
  #foldHits(): void {
    const hits = this.#hits?.read();
    if (hits === undefined || hits.length === 0) return;
    this.#applyHits(hits);
    this.#hits?.clear();
  }

  #record(row: ResultRow | null): ResultRecord | undefined {
    if (row === null) return undefined;
    return {
      id: row.id,
      created: row.created,
      lastUsed: row.last_used,
      usageCount: row.usage_count,
      size: row.size ?? undefined,
      description: row.description,
      kind: row.kind,
      parents: this.#parents.all(row.id).map((p) => p.parent),
    };
  }
}
