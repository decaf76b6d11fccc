// BuildKit's inline cache: records rewritten onto an image's layers (export) and read back from
// an image config (import), in the bytes BuildKit v0.11 writes and reads.
import { describe, expect, test } from "bun:test";
import { sha256 } from "../../../src/core/digest.ts";
import type { Digest } from "../../../src/core/digest.ts";
import type { BkConfig, BkRecord } from "../../../src/core/cache/remote/buildkit-format.ts";
import { resultLayers } from "../../../src/core/cache/remote/buildkit-format.ts";
import type { CacheLayer } from "../../../src/core/cache/remote/format.ts";
import { encodeInlineRecords, inlineCacheValue, inlineRecords, parseInlineCache } from "../../../src/core/cache/remote/inline-format.ts";
import { INLINE_CACHE_KEY } from "../../../src/core/image/oci-types.ts";
import type { Descriptor } from "../../../src/core/image/oci-types.ts";

const GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
const blob = (name: string): Digest => sha256(`blob ${name}`);
const diff = (name: string): Digest => sha256(`diff ${name}`);
const layer = (name: string): CacheLayer => ({ blob: { mediaType: GZIP, digest: blob(name), size: name.length }, diffID: diff(name) });
const rec = (digest: string, results: number[], inputs: BkRecord["inputs"] = [], chains: number[][] = []): BkRecord => ({ digest, results, chains, inputs });
const T = "2024-01-02T03:04:05Z";

/** Cache layers: a → b → c (the final chain) and a → d (a side result). */
const config: BkConfig = {
  layers: [
    { blob: blob("a"), parent: -1 },
    { blob: blob("b"), parent: 0 },
    { blob: blob("c"), parent: 1 },
    { blob: blob("d"), parent: 0 },
  ],
  records: [
    rec("sha256:src", [0]),
    rec("sha256:one", [1], [[{ selector: "", link: 0 }]]),
    rec("sha256:two", [2], [[{ selector: "sha256:sel", link: 1 }]]),
    rec("sha256:side", [3], [[{ selector: "", link: 0 }]]),
    rec("sha256:copy", [], [[{ selector: "", link: 2 }], [{ selector: "sha256:s2", link: 3 }]]),
  ],
};
const blobs = new Map(["a", "b", "c", "d"].map((n) => [blob(n), layer(n)] as const));
const image = ["a", "b", "c"].map((n) => ({ digest: blob(n), diffID: diff(n) }));

describe("inline cache export (ExportForLayers)", () => {
  test("results made of the image's layers become the index of their top image layer; others are dropped, links kept", () => {
    const out = inlineRecords(config, blobs, image)!;
    expect(out.map((r) => [r.digest, r.results, r.chains])).toEqual([
      ["sha256:src", [0], []],
      ["sha256:one", [1], []],
      ["sha256:two", [2], []],
      ["sha256:side", [], []],
      ["sha256:copy", [], []],
    ]);
    expect(out.map((r) => r.inputs)).toEqual(config.records.map((r) => r.inputs));
  });

  test("a result whose layers are not a prefix of the image becomes a chain of image layer indexes", () => {
    const cfg: BkConfig = { layers: [{ blob: blob("a"), parent: -1 }, { blob: blob("c"), parent: 0 }], records: [rec("sha256:x", [1])] };
    expect(inlineRecords(cfg, blobs, image)).toEqual([rec("sha256:x", [], [], [[0, 2]])]);
  });

  test("a cache blob in another compression matches the image layer with its diffID", () => {
    const zstd: CacheLayer = { blob: { mediaType: "application/vnd.oci.image.layer.v1.tar+zstd", digest: blob("b-zstd"), size: 1 }, diffID: diff("b") };
    const cfg: BkConfig = { layers: [{ blob: blob("a"), parent: -1 }, { blob: zstd.blob.digest, parent: 0 }], records: [rec("sha256:x", [1])] };
    const withZstd = new Map([...blobs, [zstd.blob.digest, zstd]]);
    expect(inlineRecords(cfg, withZstd, image)).toEqual([rec("sha256:x", [1])]);
  });

  test("no result made of the image's layers: no inline cache at all", () => {
    expect(inlineRecords(config, blobs, [{ digest: blob("z"), diffID: diff("z") }])).toBeUndefined();
    expect(inlineRecords(config, blobs, [])).toBeUndefined();
  });

  test("the records are written as Go marshals v1.CacheRecord: layers, chains, digest, inputs", () => {
    const bytes = encodeInlineRecords([rec("sha256:a", [1], [[{ selector: "sha256:s", link: 0 }, { selector: "", link: 2 }]]), rec("sha256:b", [], [], [[0, 2]]), rec("sha256:c", [])], T);
    expect(new TextDecoder().decode(bytes)).toBe(
      `[{"layers":[{"layer":1,"createdAt":"${T}"}],"digest":"sha256:a","inputs":[[{"selector":"sha256:s","link":0},{"link":2}]]},` +
        `{"chains":[{"layers":[0,2],"createdAt":"${T}"}],"digest":"sha256:b"},{"digest":"sha256:c"}]`,
    );
    // A Go []byte in the image config: standard base64.
    expect(inlineCacheValue(bytes)).toBe(Buffer.from(bytes).toString("base64"));
  });
});

describe("inline cache import (importInlineCache)", () => {
  const manifestLayers: Descriptor[] = image.map((l, i) => ({ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", digest: l.digest, size: 10 + i }));
  const imageConfig = (extra: Record<string, unknown>, diffIDs = image.map((l) => l.diffID)) =>
    new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: diffIDs }, ...extra }));

  test("exported records read back: image layer i has parent i-1, results are the image's first layers", () => {
    const records = inlineRecords(config, blobs, image)!;
    const value = inlineCacheValue(encodeInlineRecords(records, T));
    const read = parseInlineCache(manifestLayers, imageConfig({ [INLINE_CACHE_KEY]: value }), "reg/img:latest");
    if (!("cache" in read)) throw new Error(read.none);
    const { cache } = read;
    expect(cache.config.layers).toEqual([
      { blob: blob("a"), parent: -1 },
      { blob: blob("b"), parent: 0 },
      { blob: blob("c"), parent: 1 },
    ]);
    expect(cache.config.records).toEqual(records);
    expect(cache.blobs.get(blob("b"))).toEqual({ blob: manifestLayers[1]!, diffID: diff("b") });
    const two = cache.config.records.find((r) => r.digest === "sha256:two")!;
    expect(resultLayers(cache, two)!.map((l) => l.blob.digest)).toEqual([blob("a"), blob("b"), blob("c")]);
    expect(resultLayers(cache, rec("sha256:x", [], [], [[0, 2]]))!.map((l) => l.diffID)).toEqual([diff("a"), diff("c")]);
  });

  test("an image without an inline cache imports nothing, saying why", () => {
    expect(parseInlineCache(manifestLayers, imageConfig({}), "r")).toEqual({ none: `no ${INLINE_CACHE_KEY} in the image config` });
    expect(parseInlineCache(manifestLayers, imageConfig({ [INLINE_CACHE_KEY]: null }), "r")).toEqual({ none: `no ${INLINE_CACHE_KEY} in the image config` });
    expect(parseInlineCache([], imageConfig({ [INLINE_CACHE_KEY]: "W10=" }, []), "r")).toEqual({ none: "the image has no layers" });
    // BuildKit warns about such an image and skips it.
    expect(parseInlineCache(manifestLayers, imageConfig({ [INLINE_CACHE_KEY]: "W10=" }, [diff("a")]), "r")).toEqual({ none: "the image has 3 layers but 1 diff IDs" });
  });

  test("a malformed inline cache is a one-line error naming the image", () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64");
    const cases: [Record<string, unknown>, string][] = [
      [{ [INLINE_CACHE_KEY]: "not base64!" }, `reading inline cache of r: ${INLINE_CACHE_KEY} is not base64`],
      [{ [INLINE_CACHE_KEY]: 42 }, `reading inline cache of r: ${INLINE_CACHE_KEY} is not base64`],
      [{ [INLINE_CACHE_KEY]: Buffer.from("{").toString("base64") }, `reading inline cache of r: ${INLINE_CACHE_KEY} is not JSON`],
      [{ [INLINE_CACHE_KEY]: b64({ records: [] }) }, `reading inline cache of r: ${INLINE_CACHE_KEY} is not a list of records`],
      [{ [INLINE_CACHE_KEY]: b64([{ digest: "sha256:x", layers: [{ layer: 3 }] }]) }, "reading cache r: record sha256:x: invalid layer index"],
      [{ [INLINE_CACHE_KEY]: b64([{ digest: "sha256:x", inputs: [[{ link: 1 }]] }]) }, "reading cache r: record sha256:x: invalid input link"],
    ];
    for (const [extra, message] of cases) expect(() => parseInlineCache(manifestLayers, imageConfig(extra), "r")).toThrow(message);
    expect(() => parseInlineCache(manifestLayers, new TextEncoder().encode("[1]"), "r")).toThrow("reading inline cache of r: image config is not an object");
  });
});
