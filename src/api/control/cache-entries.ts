/**
 * Control.Solve's cache entries (CacheOptionsEntry: a type and attributes) as the specs the
 * engine exports to and imports from. `type=local` is the client's directory, which the daemon
 * reaches as a content store over the client's session (BuildKit's cache/remotecache/local):
 * buildctl serves it under the id "local:"+DIR, sends the digest to import (resolved from the
 * directory's index.json) and tags what was exported itself, from the "cache.manifest" response.
 */
import { isDigest } from "../../core/digest.ts";
import { BuildkitError } from "../../core/errors.ts";
import { parseCacheExportSpec, parseCacheImportSpec, type CacheExportSpec, type CacheImportSpec } from "../../core/cache/remote/spec.ts";
import type { ContentStore } from "../../core/worker/content-store.ts";
import type { apiPb } from "../pb/index.ts";

type CacheEntry = apiPb.moby.buildkit.v1.CacheOptionsEntry.$Properties;

/** What a local cache needs of the request's session. */
export interface CacheSession {
  contentStore(id: string): ContentStore;
}

/** BuildKit's contentStoreIDPrefix: the client's store for directory DIR is "local:"+DIR. */
const LOCAL_STORE_PREFIX = "local:";

/** The entry as the `--export-cache`/`--import-cache` spec our parsers read. */
function asSpec(entry: CacheEntry, omit: readonly string[] = []): string {
  const attrs = Object.entries(entry.Attrs ?? {})
    .filter(([k]) => !omit.includes(k))
    .map(([k, v]) => `${k}=${v}`);
  return [`type=${entry.Type ?? ""}`, ...attrs].join(",");
}

function requireSession(session: CacheSession | undefined): CacheSession {
  if (session === undefined) throw new BuildkitError("InvalidArgument", "local cache exporter/importer requires session");
  return session;
}

export function cacheExportSpec(entry: CacheEntry, session: CacheSession | undefined): CacheExportSpec {
  if (entry.Type !== "local") return parseCacheExportSpec(asSpec(entry));
  const dest = entry.Attrs?.dest ?? "";
  if (dest === "") throw new BuildkitError("InvalidArgument", "local cache exporter requires dest");
  const parsed = parseCacheExportSpec(asSpec(entry));
  if (parsed.type !== "local") throw new BuildkitError("Internal", `local cache export parsed as ${parsed.type}`);
  const { dest: _dest, tag: _tag, type: _type, ...layers } = parsed;
  const store = requireSession(session).contentStore(LOCAL_STORE_PREFIX + dest);
  return { type: "store", name: dest, store, ...layers };
}

export function cacheImportSpec(entry: CacheEntry, session: CacheSession | undefined): CacheImportSpec {
  if (entry.Type !== "local") return parseCacheImportSpec(asSpec(entry));
  const digest = entry.Attrs?.digest ?? "";
  if (digest === "") throw new BuildkitError("InvalidArgument", "local cache importer requires explicit digest");
  if (!isDigest(digest)) throw new BuildkitError("InvalidArgument", `local cache importer: digest ${JSON.stringify(digest)} is not a sha256 digest`);
  const src = entry.Attrs?.src ?? "";
  if (src === "") throw new BuildkitError("InvalidArgument", "local cache importer requires src");
  const store = requireSession(session).contentStore(LOCAL_STORE_PREFIX + src);
  return { type: "store", name: src, store, digest };
}
