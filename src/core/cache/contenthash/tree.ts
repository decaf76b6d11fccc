/**
 * The records BuildKit's contenthash keeps for a tree (its radix tree), for one mounted
 * snapshot: keys are cleaned absolute paths with "/" written as "\0"; a directory has two
 * records, "k" for its contents and "k\0" for its own header; the root's are "" and "\0". Keys
 * iterate in byte order. Digests are computed lazily and remembered.
 *
 * A local source's tree is built by BuildKit from the files the client sends (`localSource`):
 * they never include the root, whose header is then the digest of nothing, and come with
 * uid and gid 0, as BuildKit's clients reset them.
 */
import { readdirSync, lstatSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "../../digest.ts";
import { withContext } from "../../errors.ts";

export type RecordType = "file" | "symlink" | "dir" | "dirHeader";

export interface TreeRecord {
  readonly type: RecordType;
  readonly linkname: string;
  digest?: string;
}

/** Byte order of the UTF-8 encodings, which Go's radix tree iterates in. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export const pathToKey = (p: string): string => p.replaceAll("/", "\0");
export const keyToPath = (k: string): string => k.replaceAll("\0", "/");

export class ContentTree {
  readonly root: string;
  readonly localSource: boolean;
  readonly #records = new Map<string, TreeRecord>();
  readonly #keys: string[];

  /** Scans `root` (nothing followed). */
  constructor(root: string, opts: { readonly localSource?: boolean } = {}) {
    this.root = root;
    this.localSource = opts.localSource ?? false;
    this.#records.set("", { type: "dir", linkname: "" });
    this.#records.set("\0", { type: "dirHeader", linkname: "", digest: this.localSource ? sha256("") : undefined });
    try {
      this.#scan("", "");
    } catch (err) {
      throw withContext(`scanning ${root}`, err);
    }
    this.#keys = [...this.#records.keys()].sort(compareKeys);
  }

  #scan(rel: string, key: string): void {
    for (const name of readdirSync(join(this.root, rel))) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      const k = `${key}\0${name}`;
      const st = lstatSync(join(this.root, childRel));
      if (st.isDirectory()) {
        this.#records.set(k, { type: "dir", linkname: "" });
        this.#records.set(`${k}\0`, { type: "dirHeader", linkname: "" });
        this.#scan(childRel, k);
      } else if (st.isSymbolicLink()) this.#records.set(k, { type: "symlink", linkname: readlinkSync(join(this.root, childRel)) });
      else this.#records.set(k, { type: "file", linkname: "" });
    }
  }

  get(key: string): TreeRecord | undefined {
    return this.#records.get(key);
  }

  /** The index of the first key not below `key` (SeekLowerBound). */
  seek(key: string): number {
    let lo = 0;
    let hi = this.#keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareKeys(this.#keys[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  keyAt(i: number): string | undefined {
    return this.#keys[i];
  }
}
