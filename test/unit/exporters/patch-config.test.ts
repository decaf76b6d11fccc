// The exporter's completion of a frontend's image config, as BuildKit's containerimage writer.
import { describe, expect, test } from "bun:test";
import type { Digest } from "../../../src/core/digest.ts";
import type { ChainLayer } from "../../../src/core/image/image-layers.ts";
import { patchImageConfig } from "../../../src/core/exporters/image/patch-config.ts";
import { defaultImageConfig } from "../../../src/core/exporters/image/image-config.ts";

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const layer = (n: number, empty = false): ChainLayer => ({
  snapshot: `s${n}`,
  createdBy: `vertex ${n}`,
  reused: false,
  ...(empty ? {} : { blob: { digest: `sha256:b${n}` as Digest, diffID: `sha256:d${n}` as Digest, size: 1, compression: "gzip" } }),
});
const T = "2024-01-02T03:04:05Z";

describe("patchImageConfig", () => {
  test("keeps the frontend's config, fills rootfs and layer times, sorts top-level keys", () => {
    const cfg = {
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: null },
      history: [
        { created: "2020-01-01T00:00:00Z", created_by: "base", comment: "x" },
        { created_by: "ENV A=1", comment: "buildkit.dockerfile.v0", empty_layer: true },
        { created_by: "RUN true # buildkit", comment: "buildkit.dockerfile.v0" },
      ],
      config: { Env: ["A=1"], Cmd: ["sh"], OnBuild: null },
    };
    const out = patchImageConfig(enc(cfg), { layers: [layer(0), layer(1)], created: T });
    expect(Object.keys(out)).toEqual(["architecture", "config", "created", "history", "os", "rootfs"]);
    expect(out.config).toEqual(cfg.config);
    expect(out.rootfs).toEqual({ type: "layers", diff_ids: ["sha256:d0", "sha256:d1"] });
    expect(out.created).toBe(T);
    expect(out.history).toEqual([
      { created: "2020-01-01T00:00:00Z", created_by: "base", comment: "x" },
      { created: T, created_by: "ENV A=1", comment: "buildkit.dockerfile.v0", empty_layer: true },
      { created: T, created_by: "RUN true # buildkit", comment: "buildkit.dockerfile.v0" },
    ]);
  });

  test("adds entries for unaccounted layers and marks empty diffs and surplus entries empty", () => {
    const cfg = { architecture: "amd64", os: "linux", rootfs: { type: "layers" }, history: [{ created_by: "RUN a" }], config: {} };
    const extra = patchImageConfig(enc(cfg), { layers: [layer(0, true), layer(1)], created: T });
    expect(extra.history).toEqual([
      { created: T, created_by: "RUN a", empty_layer: true },
      { created: T, created_by: "vertex 1", comment: "buildkit.exporter.image.v0" },
    ]);
    const surplus = patchImageConfig(enc({ ...cfg, history: [{ created_by: "RUN a" }, { created_by: "RUN b" }] }), { layers: [layer(0)], created: T });
    expect(surplus.history).toEqual([{ created: T, created_by: "RUN a" }, { created: T, created_by: "RUN b", empty_layer: true }]);
  });

  test("clamps times to SOURCE_DATE_EPOCH", () => {
    const cfg = { created: "2030-01-01T00:00:00Z", architecture: "amd64", os: "linux", history: [{ created: "2030-01-01T00:00:00Z", created_by: "x" }], config: {} };
    const out = patchImageConfig(enc(cfg), { layers: [layer(0)], created: T, epoch: "2000-01-01T00:00:00Z" });
    expect(out.created).toBe("2000-01-01T00:00:00Z");
    expect(out.history).toEqual([{ created: "2000-01-01T00:00:00Z", created_by: "x" }]);
  });

  test("an inline cache goes under moby.buildkit.cache.v0, in Go's key order; none, no key", () => {
    const cfg = { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: null } };
    const out = patchImageConfig(enc(cfg), { layers: [layer(0)], created: T, inlineCache: "W10=" });
    expect(Object.keys(out)).toEqual(["architecture", "created", "history", "moby.buildkit.cache.v0", "os", "rootfs"]);
    expect(out["moby.buildkit.cache.v0"]).toBe("W10=");
    expect(Object.keys(patchImageConfig(enc(cfg), { layers: [layer(0)], created: T }))).not.toContain("moby.buildkit.cache.v0");
  });

  test("with no frontend config, BuildKit's default is completed the same way: keys sorted, the exporter's history comment", () => {
    const base = defaultImageConfig({ os: "linux", architecture: "amd64" });
    expect(new TextDecoder().decode(base)).toBe('{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":null}}');
    const out = patchImageConfig(base, { layers: [layer(0)], created: T, inlineCache: "W10=" });
    expect(Object.keys(out)).toEqual(["architecture", "config", "created", "history", "moby.buildkit.cache.v0", "os", "rootfs"]);
    expect(out.history).toEqual([{ created: T, created_by: "vertex 0", comment: "buildkit.exporter.image.v0" }]);
    // containerimage.config's settings over the defaults, in ocispecs.ImageConfig's field order.
    const custom = JSON.parse(new TextDecoder().decode(defaultImageConfig({ os: "linux", architecture: "arm64" }, { Cmd: ["sh"], User: "1000", Env: ["A=b"] })));
    expect(Object.keys(custom.config)).toEqual(["User", "Env", "Cmd", "WorkingDir"]);
  });

  test("a config that is not JSON is an InvalidArgument error", () => {
    expect(() => patchImageConfig(new TextEncoder().encode("{"), { layers: [], created: T })).toThrow(/parsing image config for patch/);
  });
});
