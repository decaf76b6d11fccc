/**
 * Request metadata of BuildKit's file sync calls (session/filesync/filesync.go): the daemon sets
 * them on FileSync.DiffCopy (which directory, how to filter it) and FileSend.DiffCopy (the
 * exporter's metadata for a tar target); each pattern is its own value of a repeated key.
 */
export const keyDirName = "dir-name";
export const keyIncludePatterns = "include-patterns";
export const keyExcludePatterns = "exclude-patterns";
export const keyFollowPaths = "followpaths";
/** "true": the daemon's exclude patterns win over the client's own list for the directory. */
export const keyOverrideExcludes = "override-excludes";
/** Prefix of the exporter's metadata on FileSend.DiffCopy ("exporter-md-<key>"). */
export const keyExporterMetaPrefix = "exporter-md-";
