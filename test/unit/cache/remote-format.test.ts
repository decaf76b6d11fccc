import { describe, expect, test } from "bun:test";
import { CACHE_CONFIG_MEDIA_TYPE, encodeCache, parseCacheConfig, parseCacheManifest } from "../../../src/core/cache/remote/format.ts";
import type { CacheDocument } from "../../../src/core/cache/remote/format.ts";
import { chainIDs, snapshotName } from "../../../src/core/cache/remote/chain.ts";
import { sha256 } from "../../../src/core/digest.ts";
import type { ImageManifest } from "../../../src/core/image/oci-types.ts";

const layer = (n: number) => ({ blob: { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256(`blob${n}`), size: 10 + n }, diffID: sha256(`diff${n}`) });
const doc: CacheDocument = {
  layers: [layer(0), layer(1), layer(2)],
  records: [
    { key: sha256("k0"), output: 0, layers: [0], description: "local://rootfs", kind: "source" },
    { key: sha256("k1"), output: 0, layers: [0, 1], description: "sh -c one", kind: "exec" },
    { key: sha256("k2"), output: 1, layers: [0, 2] },
    { key: sha256("k3"), output: 0, layers: [] },
  ],
};

function decode(bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(bytes));
}

describe("cache manifest format", () => {
  test("encode then parse gives the document back", () => {
    const encoded = encodeCache(doc);
    const manifest = parseCacheManifest(encoded.manifest.bytes, "test");
    expect(manifest.config).toEqual(encoded.config.descriptor);
    expect(manifest.config.mediaType).toBe(CACHE_CONFIG_MEDIA_TYPE);
    expect(encoded.manifest.descriptor.digest).toBe(sha256(encoded.manifest.bytes));
    const parsed = parseCacheConfig(manifest, encoded.config.bytes, "test");
    expect(parsed.layers).toEqual(doc.layers);
    expect(parsed.records).toEqual(doc.records.map((r) => ({ ...r, description: r.description, kind: r.kind })));
  });

  test("the config is also a plain image config: platform and rootfs.diff_ids", () => {
    const config = decode(encodeCache(doc).config.bytes) as { os: string; architecture: string; rootfs: { diff_ids: string[] } };
    expect(config.os).toBe("linux");
    expect(typeof config.architecture).toBe("string");
    expect(config.rootfs.diff_ids).toEqual(doc.layers.map((l) => l.diffID));
  });

  test("bad configs are refused with one-line errors", () => {
    const { manifest, config } = (() => {
      const e = encodeCache(doc);
      return { manifest: parseCacheManifest(e.manifest.bytes, "c"), config: decode(e.config.bytes) as Record<string, unknown> };
    })();
    const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    const imageManifest: ImageManifest = { ...manifest, config: { ...manifest.config, mediaType: "application/vnd.oci.image.config.v1+json" } };
    expect(() => parseCacheConfig(imageManifest, bytes(config), "c")).toThrow("reading cache c: not a cache manifest (config media type application/vnd.oci.image.config.v1+json)");
    expect(() => parseCacheConfig(manifest, new TextEncoder().encode("{"), "c")).toThrow("reading cache c: config is not JSON");
    expect(() => parseCacheConfig(manifest, bytes({ ...config, rootfs: { diff_ids: [] } }), "c")).toThrow("reading cache c: 3 layers but 0 diff IDs");
    expect(() => parseCacheConfig(manifest, bytes({ ...config, records: [{ key: sha256("k"), output: 0, layers: [3] }] }), "c")).toThrow("layers must be indexes of the manifest's 3 layers");
    expect(() => parseCacheConfig(manifest, bytes({ ...config, records: [{ key: "k", output: 0, layers: [] }] }), "c")).toThrow("record key k is not a sha256 digest");
    expect(() => parseCacheConfig(manifest, bytes({ ...config, records: [{ key: sha256("k"), output: -1, layers: [] }] }), "c")).toThrow("invalid output -1");
    expect(() => parseCacheConfig(manifest, bytes({ ...config, records: undefined }), "c")).toThrow("config without records");
  });

  test("bad manifests are refused", () => {
    const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    expect(() => parseCacheManifest(new TextEncoder().encode("nope"), "m")).toThrow("reading cache m: manifest is not JSON");
    expect(() => parseCacheManifest(bytes({ schemaVersion: 1 }), "m")).toThrow("reading cache m: not an OCI image manifest");
    const config = { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: sha256("c"), size: 1 };
    expect(() => parseCacheManifest(bytes({ schemaVersion: 2, config, layers: [{ mediaType: "x", digest: "md5:1", size: 1 }] }), "m")).toThrow("manifest has an invalid descriptor");
  });

  test("chain IDs follow the OCI definition and name snapshots as image layers do", () => {
    const [a, b] = [sha256("a"), sha256("b")];
    expect(chainIDs([a, b])).toEqual([a, sha256(`${a} ${b}`)]);
    expect(snapshotName(a)).toBe(`layer-${a}`);
    expect(snapshotName(undefined)).toBe("layer-empty");
  });
});
