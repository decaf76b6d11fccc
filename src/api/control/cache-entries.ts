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

/** A cache entry as Control.Solve, the gateway's Solve and the cache-imports frontend option carry it. */
export interface CacheEntry {
  readonly Type?: string | null;
  readonly Attrs?: Readonly<Record<string, string>> | null;
}

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

/**
 * The `cache-imports` frontend option: the client's cache imports as JSON (Go's
 * []CacheOptionsEntry), which buildctl sends for a frontend to import from; absent: none.
 */
export function frontendCacheImports(opts: Readonly<Record<string, string>>): CacheEntry[] {
  const text = opts["cache-imports"];
  if (text === undefined || text === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BuildkitError("InvalidArgument", `failed to parse cache-imports: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (parsed === null) return [];
  if (!Array.isArray(parsed)) throw new BuildkitError("InvalidArgument", "failed to parse cache-imports: not a list");
  return parsed.map((e: unknown, i) => {
    const entry = e as { Type?: unknown; Attrs?: unknown } | null;
    const attrs = entry?.Attrs ?? {};
    if (typeof entry?.Type !== "string" || typeof attrs !== "object" || attrs === null || Object.values(attrs).some((v) => typeof v !== "string")) {
      throw new BuildkitError("InvalidArgument", `failed to parse cache-imports: entry ${i} is not {Type, Attrs}`);
    }
    return { Type: entry.Type, Attrs: attrs as Record<string, string> };
  });
}
