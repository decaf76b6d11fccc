/**
 * The pieces of the `local://NAME` source (a directory given with `--local NAME=PATH`): a filtered,
 * ordered walk; a content digest of the tree backed by a persistent stat cache; a copy into a
 * snapshot directory.
 */
export { walkTree, resolveLocalRoot } from "./walk.ts";
export type { Entry, EntryType, WalkOptions } from "./walk.ts";
export { followLinks } from "./follow-paths.ts";
export { openStatCache } from "./stat-cache.ts";
export type { StatCache, StatCacheUpdate, StatRecord } from "./stat-cache.ts";
export { checksumTree } from "./checksum.ts";
export type { ChecksumOptions, ChecksumResult } from "./checksum.ts";
export { copyTree } from "./copy-tree.ts";
export type { CopyOptions, CopyResult } from "./copy-tree.ts";
