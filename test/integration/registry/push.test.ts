// Pushing to a real registry: blobs (streamed and chunked) and a manifest read back with
// skopeo, a cross-repository mount, and insecure = true falling back to plain HTTP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "../../../src/core/digest.ts";
import type { Digest } from "../../../src/core/digest.ts";
import { createRegistryClient, MediaType } from "../../../src/core/registry/index.ts";
import type { RegistryClient } from "../../../src/core/registry/index.ts";
import { inspectDigest } from "../../fixtures/images.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { recordingFetch, REGISTRY_BIN, startRegistry } from "../../fixtures/registry.ts";
import type { TestRegistry } from "../../fixtures/registry.ts";

const enabled = requireIntegration("registry push tests", { tools: [REGISTRY_BIN, "skopeo"] });
const signal = (): AbortSignal => AbortSignal.timeout(30_000);
const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  return out;
}

function streamOf(bytes: Uint8Array, piece = 100_000): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= bytes.byteLength) return c.close();
      c.enqueue(bytes.slice(off, off + piece));
      off += piece;
    },
  });
}

/** A one-layer image: layer and config blobs and the manifest bytes. */
function tinyImage(layer: Uint8Array) {
  const config = enc({ architecture: "amd64", os: "linux", config: { Cmd: ["true"] }, rootfs: { type: "layers", diff_ids: [sha256(layer)] } });
  const layerDesc = { mediaType: MediaType.ociLayer, digest: sha256(layer), size: layer.byteLength };
  const configDesc = { mediaType: MediaType.ociConfig, digest: sha256(config), size: config.byteLength };
  const manifest = enc({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDesc, layers: [layerDesc] });
  return { layer, layerDesc, config, configDesc, manifest };
}

describe.skipIf(!enabled)("registry push", () => {
  let registry: TestRegistry;
  let work: string;
  const calls: { method: string; url: string; status?: number }[] = [];
  let client: RegistryClient;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "bk-push-test-"));
    registry = await startRegistry();
    client = createRegistryClient({ fetch: recordingFetch(calls), dockerConfigDir: join(work, "none") });
  }, 60_000);

  afterAll(async () => {
    await registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("push blobs and a manifest; skopeo reads back the same digest", async () => {
    const img = tinyImage(randomBytes(3_000_000));
    const repo = `${registry.host}/pushed/app`;
    expect(await client.blobExists(repo, img.layerDesc.digest, signal())).toBe(false);
    expect((await client.pushBlob(repo, img.layerDesc, streamOf(img.layer), { signal: signal() })).status).toBe("uploaded");
    expect((await client.pushBlob(repo, img.configDesc, img.config, { signal: signal() })).status).toBe("uploaded");
    expect(await client.blobExists(repo, img.layerDesc.digest, signal())).toBe(true);
    const digest = await client.pushManifest(repo, "v1", MediaType.ociManifest, img.manifest, signal());
    expect(digest).toBe(sha256(img.manifest));
    expect(await inspectDigest(`${repo}:v1`)).toBe(digest);
    const got = await client.resolve(`${repo}:v1`, { os: "linux", architecture: "amd64" }, signal());
    expect(got.digest).toBe(digest);
    expect(await client.pushManifest(repo, digest, MediaType.ociManifest, img.manifest, signal())).toBe(digest);
  });

  test("chunked upload round-trips", async () => {
    const layer = randomBytes(1_234_567);
    const desc = { digest: sha256(layer), size: layer.byteLength };
    const repo = `${registry.host}/chunked`;
    calls.length = 0;
    expect((await client.pushBlob(repo, desc, streamOf(layer, 77_777), { chunkSize: 500_000, signal: signal() })).status).toBe("uploaded");
    expect(calls.filter((c) => c.method === "PATCH").map((c) => c.status)).toEqual([202, 202, 202]);
    const back = new Uint8Array(await new Response(await client.fetchBlob(repo, { ...desc, mediaType: MediaType.ociLayer }, signal())).arrayBuffer());
    expect(sha256(back)).toBe(desc.digest);
  });

  test("cross-repository mount: 201 from the mount request, no upload", async () => {
    const layer = randomBytes(500_000);
    const desc = { digest: sha256(layer) as Digest, size: layer.byteLength };
    expect((await client.pushBlob(`${registry.host}/one`, desc, layer, { signal: signal() })).status).toBe("uploaded");
    calls.length = 0;
    expect((await client.pushBlob(`${registry.host}/two`, desc, streamOf(layer), { signal: signal() })).status).toBe("mounted");
    const posts = calls.filter((c) => c.method === "POST");
    expect(posts.map((c) => [new URL(c.url).search, c.status])).toEqual([[`?mount=${encodeURIComponent(desc.digest)}&from=one`, 201]]);
    expect(calls.some((c) => c.method === "PUT" || c.method === "PATCH")).toBe(false);
    expect(await client.blobExists(`${registry.host}/two`, desc.digest, signal())).toBe(true);
    // a fresh client knows nothing of "one" unless told
    const fresh = createRegistryClient({ dockerConfigDir: join(work, "none") });
    expect((await fresh.pushBlob(`${registry.host}/three`, desc, layer, { mountFrom: [`${registry.host}/one`], signal: signal() })).status).toBe("mounted");
  });

  test("insecure = true on a plain HTTP registry falls back to HTTP", async () => {
    const img = tinyImage(randomBytes(1000));
    const repo = `${registry.host}/insecure`;
    const insecure = createRegistryClient({ config: { [registry.host]: { insecure: true } }, dockerConfigDir: join(work, "none") });
    expect((await insecure.pushBlob(repo, img.configDesc, img.config, { signal: signal() })).status).toBe("uploaded");
    expect(await insecure.blobExists(repo, img.configDesc.digest, signal())).toBe(true);
  });
});
