import { describe, expect, test } from "bun:test";
import { sha256 } from "../../../src/core/digest.ts";
import { MANIFEST_ACCEPT, MediaType, parseImageConfig, parseManifest } from "../../../src/core/registry/manifest.ts";

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const desc = { mediaType: MediaType.ociConfig, digest: sha256("c"), size: 1 };

describe("manifests", () => {
  test("Accept names OCI and Docker indexes and manifests", () => {
    for (const t of [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest]) expect(MANIFEST_ACCEPT).toContain(t);
  });

  test("OCI and Docker manifests and indexes", () => {
    expect(parseManifest(enc({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config: desc, layers: [desc] }), "m").kind).toBe("manifest");
    expect(parseManifest(enc({ schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [] }), "m").kind).toBe("index");
    // no mediaType field: told by shape (OCI allows omitting it)
    expect(parseManifest(enc({ schemaVersion: 2, manifests: [{ ...desc, platform: { os: "linux", architecture: "amd64" } }] }), "m")).toMatchObject({ kind: "index", mediaType: MediaType.ociIndex });
    expect(parseManifest(enc({ schemaVersion: 2, config: desc, layers: [] }), "m")).toMatchObject({ kind: "manifest", mediaType: MediaType.ociManifest });
  });

  test("refusals", () => {
    expect(() => parseManifest(enc({ schemaVersion: 1, fsLayers: [] }), "m")).toThrow("parsing m: Docker schema 1 manifests are not supported");
    expect(() => parseManifest(enc({ schemaVersion: 2, mediaType: "application/x-other" }), "m")).toThrow('parsing m: unsupported manifest media type "application/x-other"');
    expect(() => parseManifest(enc("not json"), "m")).toThrow(/^parsing m: /);
    expect(() => parseManifest(enc({ schemaVersion: 2, config: { ...desc, digest: "md5:abc" }, layers: [] }), "m")).toThrow("parsing m: unsupported digest md5:abc");
    expect(() => parseManifest(enc({ schemaVersion: 2, config: { ...desc, size: -1 }, layers: [] }), "m")).toThrow(/invalid size/);
    expect(() => parseManifest(enc({ schemaVersion: 2, manifests: [{ ...desc, platform: { os: "linux" } }] }), "m")).toThrow("platform needs os and architecture");
  });

  test("image configs", () => {
    const config = parseImageConfig(enc({ os: "linux", architecture: "arm64", config: { Env: ["A=b"], WorkingDir: "/w", User: "1:2", Entrypoint: ["/e"], Cmd: null }, rootfs: { type: "layers", diff_ids: [sha256("l")] }, history: [] }), "c");
    expect(config.config?.WorkingDir).toBe("/w");
    expect(config.rootfs.diff_ids).toEqual([sha256("l")]);
    expect(() => parseImageConfig(enc({ os: "linux", architecture: "x", rootfs: {} }), "c")).toThrow("parsing c: config without rootfs.diff_ids");
    expect(() => parseImageConfig(enc({ architecture: "x", rootfs: { diff_ids: [] } }), "c")).toThrow("config needs os and architecture");
  });
});
