import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHostResolver, endpointUrl, isLoopbackHost, splitMirror } from "../../../src/core/registry/hosts.ts";
import { pullScope, pushScope, toRepository } from "../../../src/core/registry/repository.ts";

const urls = async (config: Parameters<typeof createHostResolver>[0], ref: string, op: "pull" | "push" = "pull"): Promise<string[]> => {
  const repo = toRepository(ref);
  const eps = await createHostResolver(config).endpoints(repo.domain, op);
  return eps.map((e) => endpointUrl(e, repo.path, "manifests/latest"));
};

describe("reference → URLs", () => {
  test("Docker Hub goes to registry-1.docker.io over https, with library/", async () => {
    expect(await urls({}, "busybox")).toEqual(["https://registry-1.docker.io/v2/library/busybox/manifests/latest"]);
    expect(await urls({}, "docker.io/tonistiigi/copy")).toEqual(["https://registry-1.docker.io/v2/tonistiigi/copy/manifests/latest"]);
  });

  test("other hosts: https; loopback hosts: plain http unless configured", async () => {
    expect(await urls({}, "ghcr.io/a/b:1")).toEqual(["https://ghcr.io/v2/a/b/manifests/latest"]);
    expect(await urls({}, "127.0.0.1:5000/x")).toEqual(["http://127.0.0.1:5000/v2/x/manifests/latest"]);
    expect(await urls({}, "localhost:5000/x/y")).toEqual(["http://localhost:5000/v2/x/y/manifests/latest"]);
    expect(await urls({ "127.0.0.1:5000": { http: false } }, "127.0.0.1:5000/x")).toEqual(["https://127.0.0.1:5000/v2/x/manifests/latest"]);
    expect(await urls({ "127.0.0.1:5000": { insecure: true } }, "127.0.0.1:5000/x")).toEqual(["https://127.0.0.1:5000/v2/x/manifests/latest"]);
    expect(await urls({ "10.1.1.1:80": { http: true } }, "10.1.1.1:80/x")).toEqual(["http://10.1.1.1:80/v2/x/manifests/latest"]);
  });

  test("mirrors come first for pulls, BuildKit's way, and never for pushes", async () => {
    const config = { "docker.io": { mirrors: ["127.0.0.1:5001", "mirror.example.com/cache/"] }, "127.0.0.1:5001": { http: true } };
    expect(await urls(config, "busybox")).toEqual([
      "http://127.0.0.1:5001/v2/library/busybox/manifests/latest",
      "https://mirror.example.com/v2/cache/library/busybox/manifests/latest",
      "https://registry-1.docker.io/v2/library/busybox/manifests/latest",
    ]);
    expect(await urls(config, "busybox", "push")).toEqual(["https://registry-1.docker.io/v2/library/busybox/manifests/latest"]);
  });

  test("TLS settings: insecure skips verification, ca adds to the system roots", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bk-hosts-"));
    try {
      writeFileSync(join(dir, "ca.pem"), "PEM");
      const resolver = createHostResolver({ "r:1": { insecure: true }, "s:1": { ca: [join(dir, "ca.pem")] }, "t:1": { ca: [join(dir, "nope.pem")] } });
      const [r] = await resolver.endpoints("r:1", "pull");
      expect(r?.tls).toEqual({ rejectUnauthorized: false });
      expect(r?.httpFallback).toBe(true);
      const [s] = await resolver.endpoints("s:1", "pull");
      expect(s?.tls?.ca?.at(-1)).toBe("PEM");
      expect((s?.tls?.ca?.length ?? 0) > 1).toBe(true);
      expect(s?.httpFallback).toBe(false);
      await expect(resolver.endpoints("t:1", "pull")).rejects.toThrow(/^reading CA certificate .*nope\.pem: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("helpers", () => {
    expect(isLoopbackHost("127.0.0.1:5000")).toBe(true);
    expect(isLoopbackHost("127.1.2.3")).toBe(true);
    expect(isLoopbackHost("[::1]:5000")).toBe(true);
    expect(isLoopbackHost("localhost")).toBe(true);
    expect(isLoopbackHost("128.0.0.1:5000")).toBe(false);
    expect(isLoopbackHost("localhost.example.com")).toBe(false);
    expect(splitMirror("https://m.example.com/a/b/")).toEqual({ host: "m.example.com", prefix: "/a/b" });
    expect(splitMirror("m:5000")).toEqual({ host: "m:5000", prefix: "" });
    const repo = toRepository("127.0.0.1:5000/a/b:tag");
    expect(repo).toEqual({ domain: "127.0.0.1:5000", path: "a/b" });
    expect(pullScope(repo)).toBe("repository:a/b:pull");
    expect(pushScope(repo)).toBe("repository:a/b:pull,push");
    expect(() => toRepository("a/Bad")).toThrow(/^parsing repository a\/Bad: invalid reference/);
  });
});
