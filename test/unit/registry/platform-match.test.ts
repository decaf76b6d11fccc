import { describe, expect, test } from "bun:test";
import type { Descriptor } from "../../../src/core/image/oci-types.ts";
import type { Digest } from "../../../src/core/digest.ts";
import { MediaType } from "../../../src/core/registry/manifest.ts";
import { normalizePlatform, onlyPlatform, platformVector } from "../../../src/core/registry/platform-match.ts";
import { orderCandidates } from "../../../src/core/registry/select.ts";

const p = (architecture: string, variant?: string, os = "linux") => ({ os, architecture, variant });
const d = (n: number, platform?: { os: string; architecture: string; variant?: string }, mediaType: string = MediaType.ociManifest): Descriptor => ({
  mediaType,
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}` as Digest,
  size: 1,
  platform,
});

describe("platform matching (containerd's platforms.Only)", () => {
  test("normalisation", () => {
    expect(normalizePlatform(p("aarch64"))).toEqual(p("arm64"));
    expect(normalizePlatform(p("arm64", "v8"))).toEqual(p("arm64"));
    expect(normalizePlatform(p("arm"))).toEqual(p("arm", "v7"));
    expect(normalizePlatform(p("armhf"))).toEqual(p("arm", "v7"));
    expect(normalizePlatform(p("arm", "6"))).toEqual(p("arm", "v6"));
    expect(normalizePlatform(p("x86_64"))).toEqual(p("amd64"));
    expect(normalizePlatform(p("amd64", "v1"))).toEqual(p("amd64"));
    expect(normalizePlatform(p("i386"))).toEqual(p("386"));
    expect(normalizePlatform(p("amd64", undefined, "Linux"))).toEqual(p("amd64"));
  });

  test("what each platform can run, best first", () => {
    expect(platformVector(p("arm64"))).toEqual([p("arm64"), { ...p("arm", "v8"), osVersion: undefined }, { ...p("arm", "v7"), osVersion: undefined }, { ...p("arm", "v6"), osVersion: undefined }, { ...p("arm", "v5"), osVersion: undefined }]);
    expect(platformVector(p("amd64")).map((x) => x.architecture)).toEqual(["amd64", "386"]);
    expect(platformVector(p("amd64", "v3")).map((x) => x.variant)).toEqual(["v3", "v2", undefined, undefined]);
  });

  test("matches", () => {
    const arm64 = onlyPlatform(p("arm64"));
    expect(arm64.match(p("arm64"))).toBe(true);
    expect(arm64.match(p("arm64", "v8"))).toBe(true);
    expect(arm64.match(p("arm", "v7"))).toBe(true);
    expect(arm64.match(p("amd64"))).toBe(false);
    expect(arm64.match(p("arm64", undefined, "windows"))).toBe(false);
    const armv7 = onlyPlatform(p("arm", "v7"));
    expect(armv7.match(p("arm"))).toBe(true);
    expect(armv7.match(p("arm", "v6"))).toBe(true);
    expect(armv7.match(p("arm", "v8"))).toBe(false);
    expect(onlyPlatform(p("arm", "v6")).match(p("arm", "v7"))).toBe(false);
    expect(onlyPlatform(p("amd64")).match(p("386"))).toBe(true);
    expect(onlyPlatform(p("amd64")).match(p("amd64", "v2"))).toBe(false);
    expect(arm64.less(p("arm64"), p("arm", "v7"))).toBe(true);
    expect(arm64.less(p("arm", "v6"), p("arm", "v7"))).toBe(false);
  });

  test("index entries in order of preference; no-platform entries last; attestations out", () => {
    const entries = [
      d(1, p("amd64")),
      d(2, p("arm", "v7")),
      d(3),
      d(4, p("arm64", "v8")),
      d(5, p("unknown", undefined, "unknown")),
      d(6, p("arm64"), "application/vnd.example.other"),
    ];
    expect(orderCandidates(entries, onlyPlatform(p("arm64"))).map((e) => e.digest[7])).toEqual(["4", "2", "3"]);
    expect(orderCandidates(entries, onlyPlatform(p("amd64"))).map((e) => e.digest[7])).toEqual(["1", "3"]);
    expect(orderCandidates(entries, onlyPlatform(p("s390x"))).map((e) => e.digest[7])).toEqual(["3"]);
  });
});
