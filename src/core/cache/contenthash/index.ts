/**
 * BuildKit's content-based cache key of an op input (llbsolver/ops/opsutils NewContentHashFunc):
 * the contenthash checksum of each selected path of the input's tree, joined with "\0" and
 * hashed. No selectors means the whole tree ("/", links not followed).
 */
import { sha256 } from "../../digest.ts";
import type { Digest } from "../../digest.ts";
import { withContext } from "../../errors.ts";
import { Checksummer } from "./checksum.ts";
import type { ChecksumOpts } from "./checksum.ts";
import { join } from "./go-path.ts";
import { ContentTree } from "./tree.ts";

export { Checksummer } from "./checksum.ts";
export type { ChecksumOpts } from "./checksum.ts";
export { ContentTree } from "./tree.ts";
export { tarsumHeader } from "./tarsum.ts";

export interface ContentSelector extends ChecksumOpts {
  readonly path: string;
}

export interface ContentHashOptions {
  /** The tree is a local source's: its root header is not hashed, owners are 0 (tree.ts). */
  readonly localSource?: boolean;
}

/** The slow cache key digest of the tree at `root` for `selectors`. */
export async function contentHash(root: string, selectors: readonly ContentSelector[], opts: ContentHashOptions = {}): Promise<Digest> {
  const list = selectors.length > 0 ? selectors : [{ path: "", followLinks: false, wildcard: false, includePatterns: [], excludePatterns: [] }];
  try {
    const sums = new Checksummer(new ContentTree(root, { localSource: opts.localSource }));
    const digests: string[] = [];
    for (const s of list) digests.push(await sums.checksum(join("/", s.path), s));
    return sha256(digests.join("\0"));
  } catch (err) {
    throw withContext("computing content checksum", err);
  }
}
