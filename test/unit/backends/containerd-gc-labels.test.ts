// The GC labels BuildKit's image writer puts on manifests and indexes, numbered as it numbers them.
import { describe, expect, test } from "bun:test";
import { indexLabels, manifestLabels } from "../../../src/backends/containerd/gc-labels.ts";
import type { Digest } from "../../../src/core/digest.ts";
import type { Descriptor } from "../../../src/core/image/oci-types.ts";

const d = (n: number): Descriptor => ({ mediaType: "x", digest: `sha256:${String(n).repeat(64).slice(0, 64)}` as Digest, size: n });

describe("containerd GC labels", () => {
  test("a manifest refers to its config as .0 and its layers in order after it", () => {
    expect(manifestLabels({ config: d(1), layers: [d(2), d(3)] })).toEqual({
      "containerd.io/gc.ref.content.0": d(1).digest,
      "containerd.io/gc.ref.content.1": d(2).digest,
      "containerd.io/gc.ref.content.2": d(3).digest,
    });
  });

  test("an index refers to its manifests from .0", () => {
    expect(indexLabels({ manifests: [d(4), d(5)] })).toEqual({ "containerd.io/gc.ref.content.0": d(4).digest, "containerd.io/gc.ref.content.1": d(5).digest });
  });
});
