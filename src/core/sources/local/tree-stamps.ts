/**
 * Tree stamps (stat-cache.ts's TreeStamp) kept one small file each, so that an unchanged local
 * directory is answered without opening the stat cache's database at all: a build whose stamp
 * hits reads one file. Named by the sha256 of the key (a root and its filters); the key is
 * written inside too and checked on reading. Written to a temporary name and renamed over the
 * old one, so a reader sees a whole stamp or none; one that cannot be read or parsed counts as
 * none (the tree is checksummed again, then its stamp rewritten).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { hexOf, isDigest, sha256 } from "../../digest.ts";
import { replaceFileSync } from "../../fs/replace-file.ts";
import { touchIfOld } from "./stat-files-gc.ts";
import type { TreeStamp } from "./stat-cache.ts";
import { decodeTreeRecords, readWhole } from "./tree-records.ts";
import type { TreeRecords } from "./tree-records.ts";

export class TreeStampFiles {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  get(key: string): TreeStamp | undefined {
    const file = this.#file(key);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return undefined; // none yet, or unreadable: checksummed again
    }
    const stamp = parse(text, key);
    // Used: kept from GC (stat-files-gc.ts) with its records, though nothing is rewritten.
    if (stamp !== undefined) touchIfOld([file, `${file}.tree`]);
    return stamp;
  }

  set(key: string, stamp: TreeStamp): void {
    const text = JSON.stringify({ key, stamp: stamp.stamp, digest: stamp.digest, files: stamp.files, bytes: stamp.bytes });
    replaceFileSync(this.#file(key), text, `recording the stat stamp of ${key}`);
  }

  /** The tree records saved with the stamp (tree-records.ts), when whole and for this key. */
  records(key: string): TreeRecords | undefined {
    // None yet, or unreadable: the checksum takes its usual path.
    const data = readWhole(`${this.#file(key)}.tree`);
    return data && decodeTreeRecords(data, key);
  }

  /** Saves tree records (encodeTreeRecords), replacing the last ones whole. */
  setRecords(key: string, data: Uint8Array): void {
    replaceFileSync(`${this.#file(key)}.tree`, data, `recording the tree records of ${key}`);
  }

  #file(key: string): string {
    return join(this.#dir, hexOf(sha256(key)));
  }
}

function parse(text: string, key: string): TreeStamp | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const { stamp, digest, files, bytes } = v;
  if (v.key !== key || typeof stamp !== "string" || typeof digest !== "string" || !isDigest(digest)) return undefined;
  if (typeof files !== "number" || typeof bytes !== "number" || !Number.isSafeInteger(files) || !Number.isSafeInteger(bytes)) return undefined;
  return { stamp, digest, files, bytes };
}
