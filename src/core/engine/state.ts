import { join } from "node:path";
import { openCacheStore, type CacheStore } from "../cache/store.ts";
import { ContentIndex } from "../content/index-db.ts";
import { ContentStore } from "../content/store.ts";
import { openStatCache, type StatCache } from "../sources/local/stat-cache.ts";

/**
 * The engine's databases under the worker's root, each opened on first use and then kept open
 * for every build until the engine closes: a fully cached build needs only the cache index.
 */
export class EngineState {
  readonly #root: string;
  #store: CacheStore | undefined;
  #statCache: StatCache | undefined;
  #index: ContentIndex | undefined;
  #content: ContentStore | undefined;

  constructor(root: string) {
    this.#root = root;
  }

  /** The cache index: cache keys → results, sizes, last use (ROOT/cache.db). */
  get store(): CacheStore {
    return (this.#store ??= openCacheStore(join(this.#root, "cache.db")));
  }

  /** Local sources' stat cache (ROOT/local-stat.db). */
  get statCache(): StatCache {
    return (this.#statCache ??= openStatCache(join(this.#root, "local-stat.db")));
  }

  /** Blobs by digest: pulled and exported layers, configs, manifests. */
  get content(): ContentStore {
    return (this.#content ??= new ContentStore(this.#root));
  }

  /** What the content store's blobs are (layers by snapshot, images). */
  get index(): ContentIndex {
    return (this.#index ??= ContentIndex.open(this.content.dir));
  }

  close(): void {
    this.#index?.close();
    this.#statCache?.close();
    this.#store?.close();
    this.#index = this.#statCache = this.#store = undefined;
  }
}
