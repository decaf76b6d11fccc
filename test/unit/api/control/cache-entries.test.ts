// Control.Solve's cache entries on the daemon side: a `type=local` entry is the client's
// directory, reached as the content store its session serves under "local:"+DIR (BuildKit's
// cache/remotecache/local). Its error paths answer with BuildKit's messages; other types parse
// as `--export-cache`/`--import-cache` specs do.
import { describe, expect, test } from "bun:test";
import { cacheExportSpec, cacheImportSpec, frontendCacheImports, type CacheSession } from "../../../../src/api/control/cache-entries.ts";
import type { ContentStore } from "../../../../src/core/worker/content-store.ts";

const DIGEST = "sha256:" + "a".repeat(64);

/** A session that records which store ids were asked for; the stores themselves are never used here. */
function session(): CacheSession & { asked: string[] } {
  const asked: string[] = [];
  return { asked, contentStore: (id) => (asked.push(id), {} as ContentStore) };
}

describe("local cache entries", () => {
  test("export: the client's store for the directory, with the layer options", () => {
    const s = session();
    const spec = cacheExportSpec({ Type: "local", Attrs: { dest: "/tmp/c", mode: "max", compression: "zstd" } }, s);
    expect(spec).toMatchObject({ type: "store", name: "/tmp/c", mode: "max", compression: "zstd" });
    expect(s.asked).toEqual(["local:/tmp/c"]);
  });

  test("import: the client's store for the directory and the digest it resolved", () => {
    const s = session();
    expect(cacheImportSpec({ Type: "local", Attrs: { src: "/tmp/c", digest: DIGEST } }, s)).toMatchObject({ type: "store", name: "/tmp/c", digest: DIGEST });
    expect(s.asked).toEqual(["local:/tmp/c"]);
  });

  test.each([
    ["export without dest", () => cacheExportSpec({ Type: "local", Attrs: {} }, session()), "local cache exporter requires dest"],
    ["export without a session", () => cacheExportSpec({ Type: "local", Attrs: { dest: "/tmp/c" } }, undefined), "local cache exporter/importer requires session"],
    ["import without a digest", () => cacheImportSpec({ Type: "local", Attrs: { src: "/tmp/c" } }, session()), "local cache importer requires explicit digest"],
    ["import with a digest that is not one", () => cacheImportSpec({ Type: "local", Attrs: { src: "/tmp/c", digest: "latest" } }, session()), 'digest "latest" is not a sha256 digest'],
    ["import without src", () => cacheImportSpec({ Type: "local", Attrs: { digest: DIGEST } }, session()), "local cache importer requires src"],
    ["import without a session", () => cacheImportSpec({ Type: "local", Attrs: { src: "/tmp/c", digest: DIGEST } }, undefined), "local cache exporter/importer requires session"],
  ])("%s: refused with BuildKit's message", (_name, call, message) => {
    expect(call).toThrow(message);
  });

  test("a missing store in the client's session surfaces as the session's error", () => {
    const missing: CacheSession = {
      contentStore: (id) => {
        throw new Error(`the client serves no content store ${id}`);
      },
    };
    expect(() => cacheExportSpec({ Type: "local", Attrs: { dest: "/tmp/c" } }, missing)).toThrow("the client serves no content store local:/tmp/c");
  });
});

describe("the cache-imports frontend option", () => {
  test("Go's []CacheOptionsEntry JSON; null and absent are none", () => {
    expect(frontendCacheImports({ "cache-imports": '[{"Type":"registry","Attrs":{"ref":"r/c:t"}}]' })).toEqual([{ Type: "registry", Attrs: { ref: "r/c:t" } }]);
    expect(frontendCacheImports({ "cache-imports": "null" })).toEqual([]);
    expect(frontendCacheImports({})).toEqual([]);
  });
  test("anything else is refused", () => {
    expect(() => frontendCacheImports({ "cache-imports": "{" })).toThrow("failed to parse cache-imports");
    expect(() => frontendCacheImports({ "cache-imports": "{}" })).toThrow("not a list");
    expect(() => frontendCacheImports({ "cache-imports": '[{"Type":1}]' })).toThrow("entry 0 is not {Type, Attrs}");
  });
});
