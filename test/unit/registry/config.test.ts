import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildkitError } from "../../../src/core/errors.ts";
import { loadRegistryConfig, parseRegistryConfig, registryConfigFromToml } from "../../../src/core/registry/config.ts";

const BUILDKIT_EXAMPLE = `[registry."127.0.0.1:5000"]
  http = true
  insecure = true
  mirrors = ["127.0.0.1:5001"]
  ca = ["/etc/certs/ca.pem"]`;

describe("registry config (buildkitd.toml)", () => {
  test("reads BuildKit's format exactly", () => {
    expect(parseRegistryConfig(BUILDKIT_EXAMPLE)).toEqual({
      "127.0.0.1:5000": { http: true, insecure: true, mirrors: ["127.0.0.1:5001"], ca: ["/etc/certs/ca.pem"] },
    });
  });

  test("keeps several hosts, keypairs, and ignores other sections", () => {
    const text = `debug = true
root = "/var/lib/buildkit"
[worker.oci]
  enabled = true
[registry."docker.io"]
  mirrors = ["mirror.example.com", "10.0.0.1:5000/prefix"]
[registry."example.com:443"]
  ca = ["/a.pem", "/b.pem"]
  [[registry."example.com:443".keypair]]
    key = "/client.key"
    cert = "/client.pem"
`;
    expect(parseRegistryConfig(text)).toEqual({
      "docker.io": { mirrors: ["mirror.example.com", "10.0.0.1:5000/prefix"] },
      "example.com:443": { ca: ["/a.pem", "/b.pem"], keypair: [{ key: "/client.key", cert: "/client.pem" }] },
    });
  });

  test("no registry section: empty config", () => {
    expect(parseRegistryConfig("debug = true\n")).toEqual({});
    expect(registryConfigFromToml({})).toEqual({});
  });

  test("wrong types are InvalidArgument errors naming the host", () => {
    const err = (() => {
      try {
        parseRegistryConfig(`[registry."h:1"]\n  http = "yes"\n`, "/etc/buildkit/buildkitd.toml");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(BuildkitError);
    expect((err as BuildkitError).code).toBe("InvalidArgument");
    expect((err as Error).message).toBe('reading registry config /etc/buildkit/buildkitd.toml (registry."h:1"): http must be true or false');
    expect(() => parseRegistryConfig(`[registry."h"]\n mirrors = "m"\n`)).toThrow("mirrors must be a list of strings");
    expect(() => parseRegistryConfig(`[registry."h"]\n ca = [1]\n`)).toThrow("ca must be a list of strings");
  });

  test("TOML syntax errors are one line with the file", () => {
    expect(() => parseRegistryConfig("[registry\n", "x.toml")).toThrow(/^reading registry config x\.toml: /);
  });

  test("loads from a file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bk-regcfg-"));
    try {
      writeFileSync(join(dir, "buildkitd.toml"), BUILDKIT_EXAMPLE);
      expect((await loadRegistryConfig(join(dir, "buildkitd.toml")))["127.0.0.1:5000"]?.http).toBe(true);
      await expect(loadRegistryConfig(join(dir, "missing.toml"))).rejects.toThrow(/^reading registry config .*missing\.toml: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
