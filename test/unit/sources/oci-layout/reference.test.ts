// oci-layout:// references read as BuildKit's identifier reads them (containerd's reference.Parse):
// a host and path, then a digest, which the layout is looked up by.
import { describe, expect, test } from "bun:test";
import type { Digest } from "../../../../src/core/digest.ts";
import { parseOciLayoutRef } from "../../../../src/core/sources/oci-layout/reference.ts";

const D = `sha256:${"a".repeat(64)}` as Digest;

describe("parseOciLayoutRef", () => {
  test("locator and digest, with or without a tag; written back as containerd writes it", () => {
    expect(parseOciLayoutRef(`docker.io/library/bb@${D}`)).toEqual({ locator: "docker.io/library/bb", digest: D, text: `docker.io/library/bb@${D}` });
    expect(parseOciLayoutRef(`localhost:5000/x/y:1.0@${D}`)).toEqual({ locator: "localhost:5000/x/y", digest: D, text: `localhost:5000/x/y:1.0@${D}` });
  });

  test("refused: no digest, a bad digest, a scheme, no host, a name without a path (its @ reads as user info)", () => {
    expect(() => parseOciLayoutRef("docker.io/library/bb:latest")).toThrow("has no digest");
    expect(() => parseOciLayoutRef("docker.io/library/bb@sha256:abc")).toThrow("unsupported digest");
    expect(() => parseOciLayoutRef(`oci://x/y@${D}`)).toThrow("it has a scheme");
    expect(() => parseOciLayoutRef(`/x@${D}`)).toThrow("hostname required");
    expect(() => parseOciLayoutRef(`bb@${D}`)).toThrow("the host part has an \"@\"");
    expect(() => parseOciLayoutRef(`host:port/x@${D}`)).toThrow("invalid port");
  });
});
