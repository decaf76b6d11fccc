// Build information as BuildKit v0.11 makes it: the capture's deduplication and tag-over-digest
// rule (provenance.Capture), the JSON's exact bytes (buildinfo.FromProvenance + json.Marshal),
// the form images embed (buildinfo.Format) and the frontend attributes it keeps (FilterArgs).
import { describe, expect, test } from "bun:test";
import { buildInfo, formatBuildInfo, recordedArgs } from "../../../src/core/provenance/build-info.ts";
import { SourceCapture } from "../../../src/core/provenance/capture.ts";
import { patchImageConfig } from "../../../src/core/exporters/image/patch-config.ts";

const AMD64 = { os: "linux", architecture: "amd64" };
const D1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

describe("SourceCapture", () => {
  test("an image is captured once per reference and platform; an absent platform differs from a given one, as Go's pointers do", () => {
    const c = new SourceCapture().addAll([
      { type: "docker-image", ref: "docker.io/library/busybox:latest", platform: AMD64, digest: D1 },
      { type: "docker-image", ref: "docker.io/library/busybox:latest", platform: { ...AMD64 }, digest: D1 },
      { type: "docker-image", ref: "docker.io/library/busybox:latest", digest: D1 },
      { type: "docker-image", ref: "docker.io/library/busybox:latest", platform: { os: "linux", architecture: "arm64" }, digest: D2 },
    ]);
    expect(c.images.length).toBe(3);
  });

  test("a digest reference is dropped when the same name and tag (latest when it has none) is captured by tag", () => {
    const c = new SourceCapture()
      .addAll([
        { type: "docker-image", ref: "docker.io/library/busybox:latest@" + D1, platform: AMD64, digest: D1 },
        { type: "docker-image", ref: "docker.io/library/busybox@" + D1, platform: AMD64, digest: D1 },
        { type: "docker-image", ref: "docker.io/library/alpine:3@" + D2, platform: AMD64, digest: D2 },
        { type: "docker-image", ref: "docker.io/library/busybox:latest", platform: AMD64, digest: D1 },
      ])
      .finish();
    expect(c.images.map((i) => i.ref)).toEqual(["docker.io/library/alpine:3@" + D2, "docker.io/library/busybox:latest"]);
  });

  test("git and http sources are deduplicated by URL, with credentials redacted", () => {
    const c = new SourceCapture().addAll([
      { type: "git", url: "https://user:token@example.com/repo.git#main", commit: "abc" },
      { type: "git", url: "https://user:other@example.com/repo.git#main", commit: "abc" },
      { type: "http", url: "https://example.com/b", digest: D2 },
      { type: "http", url: "https://example.com/a", digest: D1 },
    ]).finish();
    expect(c.git).toEqual([{ type: "git", url: "https://user:xxxxx@example.com/repo.git#main", commit: "abc" }]);
    expect(c.http.map((h) => h.url)).toEqual(["https://example.com/a", "https://example.com/b"]);
  });
});

describe("buildInfo", () => {
  test("Go's bytes: field order, attrs sorted, sources of every type sorted by reference, HTML characters escaped", () => {
    const c = new SourceCapture()
      .addAll([
        { type: "git", url: "https://example.com/repo.git", commit: "c0ffee" },
        { type: "docker-image", ref: "docker.io/library/busybox:latest", platform: AMD64, digest: D1 },
        { type: "http", url: "https://a.example/x?y=1&z=2", digest: D2 },
      ])
      .finish();
    expect(text(buildInfo(c, { frontend: "dockerfile.v0", args: { "label:b": "2", "build-arg:A": "<1>" } }))).toBe(
      '{"frontend":"dockerfile.v0","attrs":{"build-arg:A":"\\u003c1\\u003e","label:b":"2"},"sources":[' +
        `{"type":"docker-image","ref":"docker.io/library/busybox:latest","pin":"${D1}"},` +
        `{"type":"http","ref":"https://a.example/x?y=1\\u0026z=2","pin":"${D2}"},` +
        '{"type":"git","ref":"https://example.com/repo.git","pin":"c0ffee"}]}',
    );
  });

  test("a plain definition with no source: an empty object (BuildKit still reports it)", () => {
    expect(text(buildInfo(new SourceCapture().finish(), {}))).toBe("{}");
  });

  test("the embedded form drops the attributes unless they are asked for; nothing to embed gives nothing", () => {
    const raw = buildInfo(new SourceCapture().finish(), { frontend: "dockerfile.v0", args: { "build-arg:A": "1" } });
    expect(text(formatBuildInfo(raw, { keepAttrs: false }))).toBe('{"frontend":"dockerfile.v0"}');
    expect(text(formatBuildInfo(raw, { keepAttrs: true }))).toBe('{"frontend":"dockerfile.v0","attrs":{"build-arg:A":"1"}}');
    expect(formatBuildInfo(undefined, { keepAttrs: false })).toBeUndefined();
  });

  test("frontend attributes: host-specific ones and attest:* are left out, context URLs redacted", () => {
    expect(
      recordedArgs({
        platform: "linux/arm64",
        "image-resolve-mode": "pull",
        "cgroup-parent": "x",
        "cache-imports": "[]",
        "attest:provenance": "mode=max",
        context: "https://user:pw@example.com/repo.git",
        "context:base": "docker-image://busybox",
        "build-arg:A": "1",
        filename: "Dockerfile",
      }),
    ).toEqual({ context: "https://user:xxxxx@example.com/repo.git", "context:base": "docker-image://busybox", "build-arg:A": "1", filename: "Dockerfile" });
  });
});

describe("patchImageConfig and build information", () => {
  const base = new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", config: {}, "moby.buildkit.buildinfo.v1": "aW5oZXJpdGVk" }));
  test("written under moby.buildkit.buildinfo.v1 when given", () => {
    const out = patchImageConfig(base, { layers: [], created: "2024-01-01T00:00:00Z", buildInfo: "e30=" });
    expect(out["moby.buildkit.buildinfo.v1"]).toBe("e30=");
  });
  test("an inherited one is removed when there is none (buildinfo=false), as BuildKit's writer does", () => {
    const out = patchImageConfig(base, { layers: [], created: "2024-01-01T00:00:00Z" });
    expect(Object.hasOwn(out, "moby.buildkit.buildinfo.v1")).toBe(false);
  });
});
