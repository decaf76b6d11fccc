/**
 * Cache hits waiting to be written into the cache index: one line per hit ("<ms> <result id>"),
 * appended to a file beside the database. Appending a line costs a write(2); the transaction it
 * replaces cost a WAL commit now and a checkpoint at close. The store folds the lines into the
 * database (last use: the latest time; use count: one per line) at its next write or read of
 * records, then empties the file.
 *
 * Hits are bookkeeping for GC and `du`, not results: the file is not synced, and a line cut short
 * by a crash, or anything else that does not parse, is skipped when read. A hit folded twice
 * (a crash between the fold's commit and the file's truncation) counts twice; its time is kept
 * as the latest either way.
 */
import { appendFileSync, readFileSync, truncateSync } from "node:fs";

export interface Hit {
  readonly time: number;
  readonly id: string;
}

const LINE = /^(\d{1,16}) (\S+)$/;

export class HitsJournal {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  /**
   * Appends one line per id; false when an id cannot be a line (empty, or with white space) or
   * the file cannot be written: the caller then writes the hits directly.
   */
  append(ids: readonly string[], time: number): boolean {
    let text = "";
    for (const id of ids) {
      if (id === "" || /\s/.test(id)) return false;
      text += `${time} ${id}\n`;
    }
    try {
      appendFileSync(this.#path, text, { mode: 0o600 });
      return true;
    } catch {
      return false;
    }
  }

  /** The hits written so far, oldest first; none when there is no file. */
  read(): Hit[] {
    let text: string;
    try {
      text = readFileSync(this.#path, "utf8");
    } catch {
      return [];
    }
    const hits: Hit[] = [];
    for (const line of text.split("\n")) {
      const m = LINE.exec(line);
      if (m) hits.push({ time: Number(m[1]), id: m[2]! });
    }
    return hits;
  }

  /** Empties the file once its hits are in the database. */
  clear(): void {
    try {
      truncateSync(this.#path, 0);
    } catch {
      // gone already: nothing to clear
    }
  }
}
