/**
 * `type=local` cache exports and imports of a remote build, as BuildKit's client/solve.go
 * parseCacheOptions prepares them: each directory is served to the daemon as a content store
 * "local:"+DIR over the session; an import without a digest names the one tagged in
 * DIR/index.json (default "latest"); after the solve, the cache the daemon exported
 * ("cache.manifest" in its response) is tagged in each export's DIR/index.json.
 */
import { mkdirSync } from "node:fs";
import { isDigest } from "../../core/digest.ts";
import { BuildkitError, withContext } from "../../core/errors.ts";
import type { Descriptor } from "../../core/image/oci-types.ts";
import { taggedInLayout, tagInLayout } from "../../core/image/layout-dir.ts";
import { LocalContentStore } from "../session/content/local-store.ts";
import { resolveClientPath } from "./client-paths.ts";
import type { CacheEntry } from "./solve.ts";
import type { SessionHandler } from "../session/session.ts";

/** BuildKit's client: the store id of directory DIR. */
const STORE_PREFIX = "local:";
/** The exporter response key holding the exported cache's descriptor (JSON). */
export const CACHE_MANIFEST_KEY = "cache.manifest";
const DEFAULT_TAG = "latest";

export interface LocalCaches {
  readonly exports: CacheEntry[];
  readonly imports: CacheEntry[];
  /** Store id → the directory's store, served over the session. */
  readonly stores: Map<string, LocalContentStore>;
  /** Export directory → the tag its index.json gets. */
  readonly toTag: Map<string, string>;
}

/** Resolves the local entries (paths made absolute, import digests from index.json); others pass as they are. */
export async function prepareLocalCaches(
  exports: readonly CacheEntry[],
  imports: readonly CacheEntry[],
  warn: (message: string) => void,
): Promise<LocalCaches> {
  const stores = new Map<string, LocalContentStore>();
  const toTag = new Map<string, string>();
  const serve = (dir: string) => {
    if (!stores.has(STORE_PREFIX + dir)) stores.set(STORE_PREFIX + dir, new LocalContentStore(dir));
  };
  const outExports: CacheEntry[] = [];
  for (const e of exports) {
    if (e.type !== "local") {
      outExports.push(e);
      continue;
    }
    const dest = e.attrs.dest ?? "";
    if (dest === "") throw new BuildkitError("InvalidArgument", "--export-cache type=local requires dest=DIR");
    const dir = resolveClientPath(dest);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw withContext(`--export-cache type=local: creating ${dir}`, err);
    }
    serve(dir);
    toTag.set(dir, e.attrs.tag ?? DEFAULT_TAG);
    outExports.push({ type: e.type, attrs: { ...e.attrs, dest: dir } });
  }
  const outImports: CacheEntry[] = [];
  for (const e of imports) {
    if (e.type !== "local") {
      outImports.push(e);
      continue;
    }
    const src = e.attrs.src ?? "";
    if (src === "") throw new BuildkitError("InvalidArgument", "--import-cache type=local requires src=DIR");
    const dir = resolveClientPath(src);
    let digest = e.attrs.digest ?? "";
    if (digest === "") {
      const tag = e.attrs.tag ?? DEFAULT_TAG;
      const desc = await taggedInLayout(dir, tag).catch((err: unknown) => {
        throw withContext(`--import-cache type=local,src=${src}`, err);
      });
      if (desc === undefined) {
        // BuildKit's client skips a directory without a cache (a first build), with a warning.
        warn(`local cache import at ${dir} not found: no ${dir}/index.json`);
        continue;
      }
      digest = desc.digest;
    } else if (!isDigest(digest)) {
      throw new BuildkitError("InvalidArgument", `--import-cache type=local: digest ${JSON.stringify(digest)} is not a sha256 digest`);
    }
    serve(dir);
    outImports.push({ type: e.type, attrs: { ...e.attrs, src: dir, digest } });
  }
  return { exports: outExports, imports: outImports, stores, toTag };
}

/** Tags the exported cache (the response's cache.manifest) in each export directory's index.json. */
export async function tagExportedCaches(caches: LocalCaches, response: Readonly<Record<string, string>>): Promise<void> {
  if (caches.toTag.size === 0) return;
  const text = response[CACHE_MANIFEST_KEY];
  if (text === undefined || text === "") {
    throw new BuildkitError("Internal", `the daemon answered no ${CACHE_MANIFEST_KEY} for the local cache export to ${[...caches.toTag.keys()].join(", ")}`);
  }
  const desc = parseDescriptor(text);
  for (const [dir, tag] of caches.toTag) {
    try {
      await tagInLayout(dir, tag, desc);
    } catch (err) {
      throw withContext(`tagging the exported cache in ${dir}/index.json`, err);
    }
  }
}

function parseDescriptor(text: string): Descriptor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BuildkitError("Internal", `the daemon's ${CACHE_MANIFEST_KEY} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const d = parsed as Partial<Descriptor> | null;
  if (typeof d?.mediaType !== "string" || typeof d.digest !== "string" || !isDigest(d.digest) || typeof d.size !== "number") {
    throw new BuildkitError("Internal", `the daemon's ${CACHE_MANIFEST_KEY} is not a descriptor: ${text}`);
  }
  return d as Descriptor;
}

/**
 * The session's content service over the stores (by id). Loaded only for a build with local
 * caches or an OCI layout output: it brings containerd's generated protos, which a client
 * command otherwise never loads.
 */
export async function storeHandlers(stores: ReadonlyMap<string, LocalContentStore>): Promise<SessionHandler[]> {
  const { contentHandlers } = await import("../session/content/attachable.ts");
  return contentHandlers(stores);
}
