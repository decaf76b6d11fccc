/**
 * BuildKit v0.11's contenthash.Checksum over a ContentTree (cache/contenthash/checksum.go):
 *
 * - a file or symlink: its own digest (file-hash.ts);
 * - a directory: sha256 over "\0" + its header's digest, then for each child in byte order its
 *   name (as "\0name") and digest, a child directory by its contents' digest;
 * - FollowLinks: a selected symlink is followed (up to 255 times), symlinks in parent
 *   components always are;
 * - Wildcard or include/exclude patterns: the matching files and directory headers (with the
 *   headers of their parents), each as base name + digest; one match named like the selector
 *   is its own digest, none is the digest of nothing.
 *
 * Its quirks are kept: a wildcard prefix resolving to a symlink chain restarts from the first
 * link, a selector "/" ending in a separator leaves out the root's header.
 */
import { BuildkitError } from "../../errors.ts";
import { PatternMatcher } from "../../fs/patterns.ts";
import type { MatchState } from "../../fs/patterns.ts";
import { hasWildcards, matchWildcard } from "../../fs/wildcard.ts";
import { fileDigest } from "./file-hash.ts";
import { base, clean, dir, isAbs, join } from "./go-path.ts";
import { ContentTree, keyToPath, pathToKey } from "./tree.ts";
import type { TreeRecord } from "./tree.ts";

export interface ChecksumOpts {
  readonly followLinks: boolean;
  readonly wildcard: boolean;
  readonly includePatterns: readonly string[];
  readonly excludePatterns: readonly string[];
}

const MAX_LINKS = 255;
const EMPTY = `sha256:${new Bun.CryptoHasher("sha256").digest("hex")}`;

interface IncludedPath {
  readonly path: string;
  record?: TreeRecord;
  included: boolean;
  includeState?: MatchState;
  excludeState?: MatchState;
}

const keyPath = (p: string): string => {
  const joined = join("/", p);
  return joined === "/" ? "" : joined;
};

function notFound(key: string): BuildkitError {
  return new BuildkitError("NotFound", `checksumming "${keyToPath(key)}": not found`);
}

function tooManyLinks(p: string): BuildkitError {
  return new BuildkitError("InvalidArgument", `checksumming ${p}: too many links`);
}

/** Go's splitKey: the parent key and the last "\0name". */
function splitKey(k: string): [string, string] {
  let found = false;
  let i = k.length - 1;
  for (;;) {
    if (i <= 0 || (found && k[i] === "\0")) break;
    if (k[i] !== "\0") found = true;
    i--;
  }
  return [k.slice(0, i), k.slice(i)];
}

function cleanLink(dirPath: string, linkname: string): string {
  let d = clean(dirPath);
  if (d === "." || d === "/") d = "";
  const link = clean(linkname);
  return isAbs(link) ? link : join("/", join(dir(d), link));
}

function splitWildcards(p: string): [string, string] {
  const p1: string[] = [];
  const p2: string[] = [];
  let found = false;
  for (let part of join(p).split("/")) {
    if (!found && hasWildcards(part)) found = true;
    if (part === "") part = "/";
    (found ? p2 : p1).push(part);
  }
  return [join(...p1), join(...p2)];
}

export class Checksummer {
  readonly #tree: ContentTree;

  constructor(tree: ContentTree) {
    this.#tree = tree;
  }

  /** contenthash.Checksum of path p (absolute, as llbsolver passes it). */
  async checksum(p: string, opts: ChecksumOpts): Promise<string> {
    if (!opts.wildcard && opts.includePatterns.length === 0 && opts.excludePatterns.length === 0) return await this.#checksumFollow(p, opts.followLinks);
    const included = await this.#includedPaths(p, opts);
    if (opts.followLinks) {
      for (const w of included) {
        if (w.record?.type === "symlink") w.record = { type: "file", linkname: "", digest: await this.#checksumFollow(w.path, true) };
      }
    }
    if (included.length === 0) return EMPTY;
    if (included.length === 1 && base(p) === base(included[0]!.path)) return included[0]!.record!.digest!;
    const h = new Bun.CryptoHasher("sha256");
    included.forEach((w, i) => {
      if (i !== 0) h.update(new Uint8Array([0]));
      h.update(base(w.path));
      h.update(w.record!.digest!);
    });
    return `sha256:${h.digest("hex")}`;
  }

  async #checksumFollow(p: string, follow: boolean): Promise<string> {
    for (let i = 0; ; i++) {
      if (i > MAX_LINKS) throw tooManyLinks(p);
      const cr = await this.#digestOf(pathToKey(keyPath(p)), true);
      if (cr.type !== "symlink" || !follow) return cr.digest!;
      p = isAbs(cr.linkname) ? cr.linkname : join(dir(p), cr.linkname);
    }
  }

  #followLinks(k: string, follow: boolean, walked = { n: 0 }): [string, TreeRecord | undefined] {
    const found = this.#tree.get(k);
    if (found) return [k, found];
    if (!follow || k.length === 0) return [k, undefined];
    const [parentKey, file] = splitKey(k);
    const [resolved, parent] = this.#followLinks(parentKey, follow, walked);
    if (parent?.type === "symlink") {
      if (++walked.n > MAX_LINKS) throw tooManyLinks(keyToPath(k));
      const link = cleanLink(keyToPath(parentKey), parent.linkname);
      return this.#followLinks(pathToKey(link) + file, follow, walked);
    }
    const key = resolved + file;
    return [key, this.#tree.get(key)];
  }

  /** cacheContext.checksum: the record at k (links in parents followed when `follow`), digested. */
  async #digestOf(k: string, follow: boolean): Promise<TreeRecord> {
    const [key, cr] = this.#followLinks(k, follow);
    if (cr === undefined) throw notFound(k);
    if (cr.digest !== undefined) return cr;
    if (cr.type === "dir") {
      const h = new Bun.CryptoHasher("sha256");
      const next = `${key}\0`;
      let i = this.#tree.seek(`${next}\0`);
      for (let subk: string | undefined = next; subk?.startsWith(next); subk = this.#tree.keyAt(i++)) {
        h.update(subk.slice(key.length));
        const sub = await this.#digestOf(subk, true);
        h.update(sub.digest!);
        if (sub.type === "dir") {
          const inside = `${subk}\0`;
          while (this.#tree.keyAt(i)?.startsWith(inside)) i++;
        }
      }
      cr.digest = `sha256:${h.digest("hex")}`;
    } else {
      const rel = keyToPath(key.endsWith("\0") ? key.slice(0, -1) : key);
      cr.digest = await fileDigest(this.#tree.root + rel, { resetOwner: this.#tree.localSource });
    }
    return cr;
  }

  #wildcardPrefix(p: string): [string, string, boolean] {
    const [d1, d2] = splitWildcards(p);
    if (d1 === "/") return ["", "", false];
    const walked = { n: 0 };
    let [k, cr] = this.#followLinks(pathToKey(d1), true, walked);
    if (d2 !== "" && cr?.type === "symlink") {
      const resolved = keyToPath(k);
      for (;;) {
        const v = this.#tree.get(k);
        if (v === undefined) return [d1, k, false];
        if (v.type !== "symlink") break;
        if (++walked.n > MAX_LINKS) throw tooManyLinks(p);
        // Go shadows `resolved` here: every step restarts from the first link.
        k = pathToKey(cleanLink(resolved, v.linkname));
      }
    }
    return [d1, k, cr !== undefined];
  }

  async #includedPaths(p: string, opts: ChecksumOpts): Promise<IncludedPath[]> {
    const endsInSep = p.length !== 0 && p.endsWith("/");
    p = keyPath(p);
    const include = opts.includePatterns.length > 0 ? new PatternMatcher(opts.includePatterns) : undefined;
    const exclude = opts.excludePatterns.length > 0 ? new PatternMatcher(opts.excludePatterns) : undefined;
    const out: IncludedPath[] = [];
    let origPrefix: string;
    let k: string;
    let keyOk: boolean;
    if (opts.wildcard) [origPrefix, k, keyOk] = this.#wildcardPrefix(p);
    else {
      origPrefix = p;
      let cr: TreeRecord | undefined;
      [k, cr] = this.#followLinks(pathToKey(origPrefix), true);
      keyOk = cr !== undefined;
    }
    let pos = 0;
    let resolvedPrefix = "";
    if (origPrefix !== "") {
      if (keyOk) pos = this.#tree.seek(`${k}\0`);
      resolvedPrefix = keyToPath(k);
    } else {
      const first = this.#tree.keyAt(pos++);
      keyOk = first !== undefined;
      k = first ?? "";
    }
    const parents: IncludedPath[] = [];
    let lastMatchedDir = "";
    const advance = (): void => {
      const nextKey = this.#tree.keyAt(pos++);
      keyOk = nextKey !== undefined;
      k = nextKey ?? "";
    };
    for (; keyOk; advance()) {
      let fn = keyToPath(k);
      if (fn.startsWith(resolvedPrefix)) fn = origPrefix + fn.slice(resolvedPrefix.length);
      while (parents.length > 0 && !fn.startsWith(`${parents.at(-1)!.path}/`)) parents.pop();
      const parentDir = parents.at(-1);
      let dirHeader = false;
      if (k.endsWith("\0")) {
        dirHeader = true;
        fn = fn.slice(0, -1);
        if (fn === p && endsInSep) continue;
      }
      const maybe: IncludedPath = { path: fn, included: false };
      let candidate: string;
      if (opts.wildcard) {
        if (p !== "" && (lastMatchedDir === "" || !fn.startsWith(`${lastMatchedDir}/`))) {
          if (!matchWildcard(p, fn)) continue;
          lastMatchedDir = fn;
        }
        candidate = relative(fn, lastMatchedDir);
      } else {
        if (!`${fn}/`.startsWith(`${p}/`)) break;
        candidate = relative(fn, p);
      }
      let shouldInclude = shouldIncludePath(candidate, include, exclude, maybe, parentDir);
      if (!shouldInclude && !dirHeader) continue;
      const cr = await this.#digestOf(k, false);
      if (cr.type === "dir") shouldInclude = false;
      maybe.record = cr;
      if (shouldInclude) {
        for (const parent of parents) {
          if (!parent.included) {
            out.push(parent);
            parent.included = true;
          }
        }
        out.push(maybe);
        maybe.included = true;
      }
      if (cr.type === "dirHeader") parents.push(maybe);
    }
    return out;
  }
}

/** strings.TrimSuffix(strings.TrimPrefix(fn+"/", prefix+"/"), "/"). */
function relative(fn: string, prefix: string): string {
  let s = `${fn}/`;
  if (s.startsWith(`${prefix}/`)) s = s.slice(prefix.length + 1);
  return s.endsWith("/") ? s.slice(0, -1) : s;
}

function shouldIncludePath(candidate: string, include: PatternMatcher | undefined, exclude: PatternMatcher | undefined, maybe: IncludedPath, parentDir: IncludedPath | undefined): boolean {
  if (include) {
    const state = include.match(candidate, parentDir?.includeState);
    maybe.includeState = state;
    if (!state.matched) return false;
  }
  if (exclude) {
    const state = exclude.match(candidate, parentDir?.excludeState);
    maybe.excludeState = state;
    if (state.matched) return false;
  }
  return true;
}
