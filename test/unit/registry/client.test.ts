import { describe, expect, test } from "bun:test";
import { sha256 } from "../../../src/core/digest.ts";
import type { Digest } from "../../../src/core/digest.ts";
import { createRegistryClient } from "../../../src/core/registry/client.ts";
import { MediaType } from "../../../src/core/registry/manifest.ts";
import type { FakeCall } from "./fake-fetch.ts";
import { never, noSleep } from "./fake-fetch.ts";
import { fakeRegistry } from "./fake-registry.ts";
import type { FakeRegistry } from "./fake-registry.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const linux = (architecture: string, variant?: string) => ({ os: "linux", architecture, variant });

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

/** Pushes an image for each platform into reg's repo; returns manifest digests by arch. */
function seedImage(reg: FakeRegistry, repo: string, platforms: { os: string; architecture: string; variant?: string }[], tag = "latest") {
  const layer = enc("layer bytes");
  const layerDigest = reg.putBlob(repo, layer);
  const byArch = new Map<string, Digest>();
  const descs = platforms.map((p) => {
    const config = enc(JSON.stringify({ architecture: p.architecture, os: p.os, variant: p.variant, config: { Env: ["A=1"], Cmd: ["sh"] }, rootfs: { type: "layers", diff_ids: [sha256("diff")] } }));
    const configDigest = reg.putBlob(repo, config);
    const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: configDigest, size: config.byteLength }, layers: [{ mediaType: MediaType.ociLayerGzip, digest: layerDigest, size: layer.byteLength }] };
    const digest = reg.putManifest(repo, `m-${p.architecture}${p.variant ?? ""}`, MediaType.ociManifest, manifest) as Digest;
    byArch.set(`${p.architecture}${p.variant ?? ""}`, digest);
    return { mediaType: MediaType.ociManifest, digest, size: JSON.stringify(manifest).length, platform: p };
  });
  const [only] = descs;
  if (descs.length === 1 && only) {
    reg.manifests.get(repo)?.set(tag, reg.manifests.get(repo)?.get(only.digest) ?? { bytes: new Uint8Array(), mediaType: "" });
    return { byArch, top: only.digest, layerDigest };
  }
  const top = reg.putManifest(repo, tag, MediaType.ociIndex, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: descs });
  return { byArch, top, layerDigest };
}

const client = (reg: { fetch: typeof fetch }, extra: Parameters<typeof createRegistryClient>[0] = {}) =>
  createRegistryClient({ fetch: reg.fetch, dockerConfigDir: "/nonexistent", sleep: noSleep, ...extra });

describe("resolve", () => {
  test("a single manifest: digest, config, ref", async () => {
    const reg = fakeRegistry("r.test:5000");
    const { top } = seedImage(reg, "app", [linux("amd64")]);
    const got = await client(reg, { config: { "r.test:5000": { http: true } } }).resolve("r.test:5000/app", linux("amd64"), never);
    expect(got.digest).toBe(top as Digest);
    expect(got.indexDigest).toBeUndefined();
    expect(got.ref).toBe(`r.test:5000/app@${top}`);
    expect(got.config.config?.Cmd).toEqual(["sh"]);
    expect(got.config.rootfs.diff_ids).toEqual([sha256("diff")]);
    expect(got.configDescriptor.digest).toBe(got.manifest.config.digest);
    expect(reg.calls[0]?.url).toBe("http://r.test:5000/v2/app/manifests/latest");
    expect(reg.calls[0]?.headers.get("accept")).toContain(MediaType.ociIndex);
    expect(reg.calls[0]?.headers.get("accept")).toContain(MediaType.dockerManifest);
  });

  test("an index: the platform's manifest, with arm fallbacks", async () => {
    const reg = fakeRegistry("r.test");
    const { byArch, top } = seedImage(reg, "multi", [linux("amd64"), linux("arm64"), linux("arm", "v7")]);
    const c = client(reg);
    const arm64 = await c.resolve("r.test/multi:latest", linux("arm64"), never);
    expect(arm64.digest).toBe(byArch.get("arm64") as Digest);
    expect(arm64.indexDigest).toBe(top as Digest);
    expect(arm64.config.architecture).toBe("arm64");
    expect((await c.resolve("r.test/multi:latest", linux("amd64"), never)).digest).toBe(byArch.get("amd64") as Digest);
    expect((await c.resolve("r.test/multi:latest", linux("arm", "v8"), never)).digest).toBe(byArch.get("armv7") as Digest);
    await expect(c.resolve("r.test/multi:latest", linux("s390x"), never)).rejects.toMatchObject({
      code: "NotFound",
      message: `resolving image r.test/multi:latest: no match for platform linux/s390x in index ${top}`,
    });
  });

  test("arm64 takes arm/v7 when that is all there is", async () => {
    const reg = fakeRegistry("r.test");
    const { byArch } = seedImage(reg, "armonly", [linux("arm", "v6"), linux("arm", "v7")]);
    expect((await client(reg).resolve("r.test/armonly", linux("arm64"), never)).digest).toBe(byArch.get("armv7") as Digest);
  });

  test("digest-pinned refs must hash to their digest", async () => {
    const reg = fakeRegistry("r.test");
    const { byArch } = seedImage(reg, "app", [linux("amd64")]);
    const digest = byArch.get("amd64") ?? "";
    expect((await client(reg).resolve(`r.test/app@${digest}`, linux("amd64"), never)).digest).toBe(digest as Digest);
    const forged = `sha256:${"0".repeat(64)}`;
    reg.manifests.get("app")?.set(forged, reg.manifests.get("app")?.get(digest) ?? { bytes: new Uint8Array(), mediaType: "" });
    await expect(client(reg).resolve(`r.test/app:v1@${forged}`, linux("amd64"), never)).rejects.toThrow(
      `resolving image r.test/app:v1@${forged}: manifest ${forged}: digest mismatch (got ${digest})`,
    );
  });

  test("unknown tags are NotFound with the registry's words; bad refs are InvalidArgument", async () => {
    const reg = fakeRegistry("r.test");
    await expect(client(reg).resolve("r.test/none:latest", linux("amd64"), never)).rejects.toMatchObject({ code: "NotFound", message: "resolving image r.test/none:latest: 404 Not Found: not found" });
    await expect(client(reg).resolve("r.test/Bad", linux("amd64"), never)).rejects.toMatchObject({ code: "InvalidArgument" });
  });

  test("mirrors are tried first, then the host; docker.io paths keep library/", async () => {
    const mirror = fakeRegistry("mirror.test:5001");
    const hub = fakeRegistry("registry-1.docker.io");
    const { top } = seedImage(hub, "library/busybox", [linux("amd64")]);
    const calls: FakeCall[] = [];
    const both = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input.toString());
      const r = url.host === "mirror.test:5001" ? mirror : hub;
      const res = await r.fetch(input, init);
      calls.push(...r.calls.slice(-1));
      return res;
    }) as unknown as typeof fetch;
    const config = { "docker.io": { mirrors: ["mirror.test:5001"] }, "mirror.test:5001": { http: true } };
    const got = await client({ fetch: both }, { config }).resolve("busybox", linux("amd64"), never);
    expect(got.digest).toBe(top as Digest);
    expect(calls[0]?.url).toBe("http://mirror.test:5001/v2/library/busybox/manifests/latest");
    expect(calls[1]?.url).toBe("https://registry-1.docker.io/v2/library/busybox/manifests/latest");
    seedImage(mirror, "library/busybox", [linux("amd64")]);
    calls.length = 0;
    const stream = await client({ fetch: both }, { config }).fetchBlob("busybox", got.manifest.layers[0] ?? got.configDescriptor, never);
    expect(await text(stream)).toBe("layer bytes");
    expect(calls.map((c) => new URL(c.url).host)).toEqual(["mirror.test:5001"]);
  });
});

describe("fetchBlob", () => {
  test("streams verified bytes", async () => {
    const reg = fakeRegistry("r.test");
    const digest = reg.putBlob("app", enc("hello")) as Digest;
    expect(await text(await client(reg).fetchBlob("r.test/app", { digest, size: 5 }, never))).toBe("hello");
  });

  test("wrong content errors the stream: digest, then size", async () => {
    const reg = fakeRegistry("r.test");
    const digest = reg.putBlob("app", enc("hello")) as Digest;
    reg.blobs.get("app")?.set(digest, enc("jello"));
    const c = client(reg);
    await expect(text(await c.fetchBlob("r.test/app", { digest, size: 5 }, never))).rejects.toMatchObject({
      code: "InvalidArgument",
      message: `blob ${digest}: digest mismatch (got ${sha256("jello")})`,
    });
    await expect(text(await c.fetchBlob("r.test/app", { digest, size: 4 }, never))).rejects.toThrow(`blob ${digest}: size mismatch (expected 4 bytes, got more than 4)`);
    await expect(text(await c.fetchBlob("r.test/app", { digest, size: 6 }, never))).rejects.toThrow(`blob ${digest}: size mismatch (expected 6 bytes, got 5)`);
  });

  test("a missing blob is NotFound", async () => {
    const reg = fakeRegistry("r.test");
    const digest = sha256("nothing");
    await expect(client(reg).fetchBlob("r.test/app", { digest, size: 1 }, never)).rejects.toMatchObject({ code: "NotFound", message: `fetching blob ${digest} from r.test/app: 404 Not Found: not found` });
  });
});

describe("push", () => {
  const data = enc("0123456789abcdefghij");
  const desc = { digest: sha256(data), size: data.byteLength };
  const stream = () => new Response(data).body as ReadableStream<Uint8Array>;

  test("monolithic streamed upload, then exists", async () => {
    const reg = fakeRegistry("r.test");
    const c = client(reg);
    expect(await c.blobExists("r.test/app", desc.digest)).toBe(false);
    expect(await c.pushBlob("r.test/app", desc, stream())).toEqual({ ...desc, status: "uploaded" });
    expect(reg.blobs.get("app")?.get(desc.digest)).toEqual(data);
    const put = reg.calls.find((x) => x.method === "PUT");
    expect(put?.url).toBe(`https://r.test/v2/app/blobs/uploads/0?_state=s0&digest=${encodeURIComponent(desc.digest)}`);
    expect(await c.pushBlob("r.test/app", desc, stream())).toEqual({ ...desc, status: "exists" });
  });

  test("chunked PATCHes with Content-Range", async () => {
    const reg = fakeRegistry("r.test");
    expect((await client(reg).pushBlob("r.test/app", desc, stream(), { chunkSize: 8 })).status).toBe("uploaded");
    const patches = reg.calls.filter((x) => x.method === "PATCH");
    expect(patches.map((p) => p.headers.get("content-range"))).toEqual(["0-7", "8-15", "16-19"]);
    expect(patches[1]?.url).toBe("http://r.test/v2/app/blobs/uploads/0?_state=p1");
    expect(reg.blobs.get("app")?.get(desc.digest)).toEqual(data);
  });

  test("a wrong digest is refused by the registry and reported", async () => {
    const reg = fakeRegistry("r.test");
    const bad = { digest: sha256("other"), size: data.byteLength };
    await expect(client(reg).pushBlob("r.test/app", bad, data)).rejects.toThrow(
      `pushing blob ${bad.digest} to r.test/app: 400 Bad Request: provided digest did not match uploaded content`,
    );
    expect(reg.calls.at(-1)?.method).toBe("DELETE");
  });

  test("cross-repository mount from a repository the client has seen", async () => {
    const reg = fakeRegistry("r.test");
    const c = client(reg);
    await c.pushBlob("r.test/one", desc, data);
    expect(await c.pushBlob("r.test/two", desc, stream())).toEqual({ ...desc, status: "mounted" });
    const mount = reg.calls.filter((x) => x.method === "POST").at(-1);
    expect(mount?.url).toBe(`https://r.test/v2/two/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=one`);
    expect(reg.calls.filter((x) => x.method === "PUT").length).toBe(1);
    expect(await createRegistryClient({ fetch: reg.fetch, dockerConfigDir: "/x" }).pushBlob("r.test/three", desc, data, { mountFrom: ["r.test/one"] })).toMatchObject({ status: "mounted" });
  });

  test("manifests by tag and by digest", async () => {
    const reg = fakeRegistry("r.test");
    const bytes = enc(JSON.stringify({ schemaVersion: 2 }));
    const c = client(reg);
    expect(await c.pushManifest("r.test/app", "v1", MediaType.ociManifest, bytes)).toBe(sha256(bytes));
    expect(reg.manifests.get("app")?.get("v1")?.mediaType).toBe(MediaType.ociManifest);
    expect(await c.pushManifest("r.test/app", sha256(bytes), MediaType.ociManifest, bytes)).toBe(sha256(bytes));
    await expect(c.pushManifest("r.test/app", sha256("x"), MediaType.ociManifest, bytes)).rejects.toThrow(
      `pushing manifest r.test/app@${sha256("x")}: digest mismatch (content is ${sha256(bytes)})`,
    );
  });
});
