// The local (OCI layout) cache: writing, merging, reading back and verifying; and how imported
// records answer the local cache index's misses.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeCache } from "../../../src/core/cache/remote/format.ts";
import type { CacheDocument, CacheLayer } from "../../../src/core/cache/remote/format.ts";
import { importCaches } from "../../../src/core/cache/remote/import.ts";
import { readLocalCache, writeLocalCache } from "../../../src/core/cache/remote/local.ts";
import { encodeBuildkitCache, resultLayers } from "../../../src/core/cache/remote/buildkit-format.ts";
import type { BuildkitCache } from "../../../src/core/cache/remote/buildkit-format.ts";
import type { LoadedCache } from "../../../src/core/cache/remote/source.ts";
import { chainIDs } from "../../../src/core/cache/remote/chain.ts";
import { openCacheStore } from "../../../src/core/cache/store.ts";
import type { SnapshotRefs } from "../../../src/core/cache/refs.ts";
import { ContentIndex } from "../../../src/core/content/index-db.ts";
import { LocalContentStore } from "../../../src/backends/standalone/content-store.ts";
import { putBlob } from "../../../src/core/content/blobs.ts";
import { sha256 } from "../../../src/core/digest.ts";
import type { ProgressEvent } from "../../../src/core/progress/events.ts";
import type { Worker } from "../../../src/core/worker/worker.ts";

let dir: string;
let content: LocalContentStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cache-remote-"));
  content = new LocalContentStore(join(dir, "state"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function docWith(blobs: string[]): Promise<CacheDocument> {
  const layers: CacheLayer[] = [];
  for (const text of blobs) {
    const desc = await putBlob(content, "application/vnd.oci.image.layer.v1.tar", new TextEncoder().encode(text));
    layers.push({ blob: desc, diffID: desc.digest });
  }
  // Record i is the stack of layers 0..i.
  const records = layers.map((_, i) => ({ key: sha256(`k${i}`), output: 0, layers: layers.slice(0, i + 1).map((_, j) => j), description: `step ${i}` }));
  return { layers, records };
}

/** doc in BuildKit's format: record i is the chain of layers 0..i, keyed rootKey(k<i>, 0). */
function encodeBk(doc: CacheDocument) {
  const layers = doc.layers.map((l, i) => ({ blob: l.blob.digest, parent: i - 1 }));
  const records = doc.records.map((r, i) => ({ digest: sha256(`k${i}@0`), results: [i], chains: [], inputs: [] }));
  return encodeBuildkitCache({ layers, records }, new Map(doc.layers.map((l) => [l.blob.digest, l])), "2024-01-01T00:00:00Z");
}

/** doc in our earlier format (one manifest), which imports still read. */
function encodeLegacy(doc: CacheDocument) {
  const e = encodeCache(doc);
  return { config: e.config, index: e.manifest };
}

function bk(loaded: LoadedCache): BuildkitCache {
  if (!("buildkit" in loaded)) throw new Error("not in BuildKit's format");
  return loaded.buildkit;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

describe("local cache layout", () => {
  test("written as an OCI layout, read back with its records and verified blobs", async () => {
    const doc = await docWith(["base", "top"]);
    const dest = join(dir, "cache");
    await writeLocalCache(dest, "latest", encodeBk(doc), doc.layers.map((l) => l.blob), content);
    expect(JSON.parse(readFileSync(join(dest, "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
    const loaded = await readLocalCache(dest, "latest");
    expect(bk(loaded).config.records.map((r) => r.digest)).toEqual([sha256("k0@0"), sha256("k1@0")]);
    expect(resultLayers(bk(loaded), bk(loaded).config.records[1]!)?.map((l) => l.blob.digest)).toEqual(doc.layers.map((l) => l.blob.digest));
    const top = doc.layers[1]!.blob;
    expect(await readAll(await loaded.source.fetch(top, AbortSignal.timeout(5000)))).toBe("top");
    writeFileSync(join(dest, "blobs/sha256", top.digest.slice(7)), "pot");
    expect(readAll(await loaded.source.fetch(top, AbortSignal.timeout(5000)))).rejects.toThrow(`blob ${top.digest}: digest mismatch`);
    rmSync(join(dest, "blobs/sha256", top.digest.slice(7)));
    expect(loaded.source.fetch(top, AbortSignal.timeout(5000))).rejects.toThrow(`blob ${top.digest} is missing from ${dest}`);
  });

  test("a second export keeps other tags and old blobs, replaces its own tag", async () => {
    const dest = join(dir, "cache");
    const one = await docWith(["a"]);
    const two = await docWith(["b"]);
    await writeLocalCache(dest, "one", encodeBk(one), one.layers.map((l) => l.blob), content);
    await writeLocalCache(dest, "two", encodeBk(two), two.layers.map((l) => l.blob), content);
    await writeLocalCache(dest, "two", encodeBk(two), two.layers.map((l) => l.blob), content);
    const index = JSON.parse(readFileSync(join(dest, "index.json"), "utf8")) as { manifests: { annotations: Record<string, string> }[] };
    expect(index.manifests.map((m) => m.annotations["org.opencontainers.image.ref.name"])).toEqual(["one", "two"]);
    expect([...bk(await readLocalCache(dest, "one")).blobs.keys()]).toEqual([one.layers[0]!.blob.digest]);
    expect(existsSync(join(dest, "blobs/sha256", one.layers[0]!.blob.digest.slice(7)))).toBe(true);
  });

  test("reading: a missing layout, a missing tag and a tampered manifest are errors", async () => {
    expect(readLocalCache(join(dir, "none"), "latest")).rejects.toThrow(`${join(dir, "none")} is not an OCI image layout (no index.json)`);
    const doc = await docWith(["a"]);
    const dest = join(dir, "cache");
    const encoded = encodeBk(doc);
    await writeLocalCache(dest, "latest", encoded, doc.layers.map((l) => l.blob), content);
    expect(readLocalCache(dest, "v2")).rejects.toThrow(`${dest}: no cache manifest tagged "v2"`);
    writeFileSync(join(dest, "blobs/sha256", encoded.index.descriptor.digest.slice(7)), "{}");
    expect(readLocalCache(dest, "latest")).rejects.toThrow(`cache index ${encoded.index.descriptor.digest}: digest mismatch`);
  });

  test("writing refuses a directory that is not a layout and leaves it alone", async () => {
    const dest = join(dir, "precious");
    mkdirSync(dest);
    writeFileSync(join(dest, "file"), "x");
    const doc = await docWith(["a"]);
    expect(writeLocalCache(dest, "latest", encodeBk(doc), [], content)).rejects.toThrow("the directory is not empty and is not an OCI image layout");
    expect(readFileSync(join(dest, "file"), "utf8")).toBe("x");
  });
});

describe("imported records in lookups (our earlier format, read for migration)", () => {
  test("local records win; imported ones answer misses with remote ids; touch ignores remote ids", async () => {
    const doc = await docWith(["base", "top"]);
    const dest = join(dir, "cache");
    await writeLocalCache(dest, "latest", encodeLegacy(doc), doc.layers.map((l) => l.blob), content);
    const store = openCacheStore(":memory:");
    const index = ContentIndex.open(join(dir, "state", "content"));
    const events: ProgressEvent[] = [];
    try {
      store.save(sha256("k0"), 0, "result-local");
      const imports = await importCaches([{ type: "local", src: dest, tag: "latest" }, { type: "local", src: join(dir, "none"), tag: "latest" }], {
        worker: {} as Worker,
        refs: {} as SnapshotRefs,
        store,
        content,
        index,
        registry: () => Promise.reject(new Error("no registry")),
        progress: { write: (e) => void events.push(e), close: async () => {} },
        signal: AbortSignal.timeout(5000),
      });
      expect(imports.store.lookup(sha256("k0"), 0)).toBe("result-local");
      const top = chainIDs(doc.layers.map((l) => l.diffID)).at(-1);
      expect(imports.store.lookup(sha256("k1"), 0)).toBe(`remote:layer-${top}`);
      expect(imports.store.lookup(sha256("k1"), 1)).toBeUndefined();
      expect(imports.store.lookup(sha256("k2"), 0)).toBeUndefined();
      imports.store.touch(["result-local", `remote:layer-${top}`]);
      expect(store.get("result-local")?.usageCount).toBe(2);
      const logs = events.flatMap((e) => (e.type === "log" ? [new TextDecoder().decode(e.data)] : []));
      expect(logs).toEqual([`warning: importing cache from ${join(dir, "none")}: ${join(dir, "none")} is not an OCI image layout (no index.json)\n`]);
    } finally {
      index.close();
      store.close();
    }
  });
});
