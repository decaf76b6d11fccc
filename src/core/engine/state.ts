import { openCacheStore, type CacheStore } from "../cache/store.ts";
import { ContentIndex } from "../content/index-db.ts";
import type { StatCache } from "../sources/local/stat-cache.ts";
import { statePath } from "../worker/storage.ts";

/**
 * The engine's databases under the worker's root, each opened on first use and then kept open
 * for every build until the engine closes: a fully cached build needs only the cache index.
 */
export class EngineState {
  readonly #root: string;
  #store: CacheStore | undefined;
  #statCache: Promise<StatCache> | undefined;
  #openedStatCache: StatCache | undefined;
  #index: ContentIndex | undefined;

  constructor(root: string) {
    this.#root = root;
  }

  /** The cache index: cache keys → results, sizes, last use. */
  get store(): CacheStore {
    return (this.#store ??= openCacheStore(statePath(this.#root, "cacheIndex")));
  }

  /** Local sources' stat cache, its module loaded with it (a build without local sources loads neither). */
  statCache(): Promise<StatCache> {
    return (this.#statCache ??= this.#openStatCache().catch((err: unknown) => {
      this.#statCache = undefined; // the next local source tries again
      throw err;
    }));
  }

  async #openStatCache(): Promise<StatCache> {
    const { openStatCache } = await import("../sources/local/stat-cache.ts");
    return (this.#openedStatCache = openStatCache(statePath(this.#root, "statCache")));
  }

  /** What the content store's blobs are (layers by snapshot, images, blob sources). */
  get index(): ContentIndex {
    return (this.#index ??= ContentIndex.open(statePath(this.#root, "content")));
  }

  close(): void {
    this.#index?.close();
    this.#openedStatCache?.close();
    this.#store?.close();
    this.#index = this.#statCache = this.#openedStatCache = this.#store = undefined;
  }
}
