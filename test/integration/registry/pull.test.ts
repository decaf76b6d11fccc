// Pulling from a real registry (Debian's docker-registry on 127.0.0.1) started by the fixture:
// resolve + fetch of a pushed busybox image, index selection, plain HTTP, a corrupted blob, a
// docker.io mirror and an unreachable registry. Skips without root or tools (fails under CI=true).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "../../../src/core/digest.ts";
import { createRegistryClient } from "../../../src/core/registry/index.ts";
import type { RegistryClient } from "../../../src/core/registry/index.ts";
import { makeBusyboxImage, pushImage } from "../../fixtures/images.ts";
import type { ImageLayout } from "../../fixtures/images.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { REGISTRY_BIN, saveBlob, startRegistry } from "../../fixtures/registry.ts";
import type { TestRegistry } from "../../fixtures/registry.ts";

const TOOLS = [REGISTRY_BIN, "skopeo", "openssl", "htpasswd", "tar", "/bin/busybox"];
const enabled = requireIntegration("registry pull tests", { tools: TOOLS });
const amd64 = { os: "linux", architecture: "amd64" };
const arm64 = { os: "linux", architecture: "arm64" };
const signal = (): AbortSignal => AbortSignal.timeout(30_000);

describe.skipIf(!enabled)("registry pull", () => {
  let registry: TestRegistry;
  let work: string;
  let single: ImageLayout;
  let multi: ImageLayout;
  let client: RegistryClient;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "bk-pull-test-"));
    registry = await startRegistry();
    single = await makeBusyboxImage({ dir: join(work, "single"), platforms: [amd64], extraFiles: { "etc/motd": "hi\n" } });
    multi = await makeBusyboxImage({ dir: join(work, "multi"), platforms: [amd64, arm64] });
    await pushImage(single.layoutDir, `${registry.host}/busybox:latest`);
    await pushImage(multi.layoutDir, `${registry.host}/multi:latest`);
    client = createRegistryClient({ config: { [registry.host]: { http: true } }, dockerConfigDir: join(work, "no-docker-config") });
  }, 60_000);

  afterAll(async () => {
    await registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("resolve and fetch a pushed busybox image: digests verified, config parsed", async () => {
    const got = await client.resolve(`${registry.host}/busybox:latest`, amd64, signal());
    const [expected] = single.manifests;
    expect(got.digest).toBe(single.digest);
    expect(got.indexDigest).toBeUndefined();
    expect(got.ref).toBe(`${registry.host}/busybox@${single.digest}`);
    expect(got.configDescriptor.digest as string).toBe(expected?.config.digest ?? "");
    expect(got.config.config?.Cmd).toEqual(["sh"]);
    expect(got.config.config?.Env?.[0]).toStartWith("PATH=");
    expect(got.config.rootfs.diff_ids.length).toBe(2);
    expect(got.manifest.layers.map((l) => l.digest)).toEqual(expected?.layers.map((l) => l.digest) ?? []);
    for (const layer of got.manifest.layers) {
      const path = join(work, layer.digest.slice(7));
      expect(await saveBlob(await client.fetchBlob(`${registry.host}/busybox`, layer, signal()), path)).toBe(layer.size);
      expect(sha256(readFileSync(path))).toBe(layer.digest);
      // the diff ID is the digest of the uncompressed tar
      expect(got.config.rootfs.diff_ids).toContain(sha256(Bun.gunzipSync(readFileSync(path))));
    }
  });

  test("a digest-pinned ref resolves to the same image", async () => {
    const got = await client.resolve(`${registry.host}/busybox@${single.digest}`, amd64, signal());
    expect(got.digest).toBe(single.digest);
  });

  test("an index: linux/arm64 and linux/amd64 pick their own manifests", async () => {
    const byArch = new Map(multi.manifests.map((m) => [m.platform.architecture, m.digest]));
    const a = await client.resolve(`${registry.host}/multi:latest`, arm64, signal());
    const b = await client.resolve(`${registry.host}/multi:latest`, amd64, signal());
    expect(a.indexDigest).toBe(multi.digest);
    expect(b.indexDigest).toBe(multi.digest);
    expect(a.digest as string).toBe(byArch.get("arm64") ?? "");
    expect(b.digest as string).toBe(byArch.get("amd64") ?? "");
    expect(a.config.architecture).toBe("arm64");
    expect(b.config.architecture).toBe("amd64");
    await expect(client.resolve(`${registry.host}/multi:latest`, { os: "linux", architecture: "s390x" }, signal())).rejects.toThrow(
      `resolving image ${registry.host}/multi:latest: no match for platform linux/s390x in index ${multi.digest}`,
    );
  });

  test("anonymous plain HTTP without any config (loopback) and an unknown tag", async () => {
    const plain = createRegistryClient({ dockerConfigDir: join(work, "none") });
    expect((await plain.resolve(`${registry.host}/busybox`, amd64, signal())).digest).toBe(single.digest);
    await expect(plain.resolve(`${registry.host}/busybox:nope`, amd64, signal())).rejects.toMatchObject({
      code: "NotFound",
      message: `resolving image ${registry.host}/busybox:nope: 404 Not Found: manifest unknown`,
    });
  });

  test("a corrupted blob: digest mismatch error, nothing saved", async () => {
    const corrupt = await startRegistry();
    try {
      await pushImage(single.layoutDir, `${corrupt.host}/busybox:latest`);
      const got = await client.resolve(`${corrupt.host}/busybox:latest`, amd64, signal());
      const layer = got.manifest.layers[0];
      if (!layer) throw new Error("no layer");
      const blobFile = corrupt.blobPath(layer.digest);
      const bytes = readFileSync(blobFile);
      bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
      writeFileSync(blobFile, bytes);
      const path = join(work, "corrupt-layer");
      const err = await saveBlob(await client.fetchBlob(`${corrupt.host}/busybox`, layer, signal()), path).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "InvalidArgument", message: `blob ${layer.digest}: digest mismatch (got ${sha256(bytes)})` });
      expect(existsSync(path)).toBe(false);
      expect(existsSync(`${path}.partial`)).toBe(false);
    } finally {
      await corrupt.stop();
    }
  });

  test("docker.io through a mirror, without the internet", async () => {
    const mirror = await startRegistry();
    try {
      await pushImage(single.layoutDir, `${mirror.host}/library/busybox:latest`);
      const viaMirror = createRegistryClient({
        config: { "docker.io": { mirrors: [mirror.host] }, [mirror.host]: { http: true } },
        dockerConfigDir: join(work, "none"),
      });
      const got = await viaMirror.resolve("docker.io/library/busybox:latest", amd64, signal());
      expect(got.digest).toBe(single.digest);
      expect(got.ref).toBe(`docker.io/library/busybox@${single.digest}`);
      const layer = got.manifest.layers[1];
      if (!layer) throw new Error("no layer");
      const stream = await viaMirror.fetchBlob("busybox", layer, signal());
      expect(sha256(new Uint8Array(await new Response(stream).arrayBuffer()))).toBe(layer.digest);
    } finally {
      await mirror.stop();
    }
  });

  test("an unreachable registry is one clear line", async () => {
    await expect(client.resolve("127.0.0.1:1/x:latest", amd64, signal())).rejects.toMatchObject({
      code: "Unavailable",
      message: "resolving image 127.0.0.1:1/x:latest: connecting to 127.0.0.1:1: connection refused",
    });
  });
});
