// `--output type=image`: pushed to a real registry (docker-registry on 127.0.0.1) and read back
// with skopeo, stored locally with push=false, and blobs mounted across repositories.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, REGISTRY_BIN, startRegistry } from "../../fixtures/registry.ts";
import type { TestRegistry } from "../../fixtures/registry.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "../build/harness.ts";
import { dirLayers, fileInLayer, responseValue, run, skopeoJson } from "./helpers.ts";

const enabled = requireIntegration("image exporter push tests", { runc: true, busybox: true, tools: [REGISTRY_BIN, "skopeo", "tar"] });
let h: BuildHarness;
let registry: TestRegistry;
beforeAll(async () => {
  if (!enabled) return;
  h = new BuildHarness();
  registry = await startRegistry();
}, 60_000);
afterAll(async () => {
  await registry?.stop();
  h?.cleanup();
});

const sh = (script: string) => ({ args: ["sh", "-c", script] });
const def = () => h.base().run(sh("echo pushed by build > /pushed")).root();
const hostArch = () => (process.arch === "arm64" ? "arm64" : "amd64");
const docker = (ref: string) => ["--tls-verify=false", `docker://${registry.host}/${ref}`];

interface Manifest {
  mediaType: string;
  config: { mediaType: string };
  layers: { mediaType: string }[];
}

async function buildImage(output: string) {
  const r = await h.build(def(), ["--output", output]);
  if (r.code !== 0) throw new Error(`build failed: ${r.stderr}`);
  return { ...r, digest: responseValue(r.stderr, "containerimage.digest")! };
}

function localImages(): Record<string, { target: { digest: string; mediaType: string } }> {
  return (JSON.parse(readFileSync(join(h.root, "images.json"), "utf8")) as { images: Record<string, { target: { digest: string; mediaType: string } }> }).images;
}

describe.skipIf(!enabled)("image exporter", () => {
  test("push=true: skopeo pulls back the manifest the build printed, with the build's file in it", async () => {
    const name = `${registry.host}/app/pushed:v1`;
    const r = await buildImage(`type=image,name=${name},push=true`);
    expect(r.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(responseValue(r.stderr, "image.name")).toBe(name);
    expect(skopeoJson("inspect", ...docker("app/pushed:v1")).Digest).toBe(r.digest);
    const raw = run(["skopeo", "inspect", "--raw", ...docker("app/pushed:v1")]);
    expect(new Bun.CryptoHasher("sha256").update(raw).digest("hex")).toBe(r.digest.slice(7));
    // BuildKit's defaults for type=image: Docker schema2 media types, gzip layers, its indented JSON.
    const manifest = JSON.parse(raw.toString()) as Manifest;
    expect(manifest.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(manifest.config.mediaType).toBe("application/vnd.docker.container.image.v1+json");
    expect(manifest.layers.map((l) => l.mediaType)).toEqual(Array(2).fill("application/vnd.docker.image.rootfs.diff.tar.gzip"));
    expect(raw.toString().startsWith('{\n  "mediaType": "application/vnd.docker.distribution.manifest.v2+json",\n  "schemaVersion": 2,\n  "config": {\n')).toBe(true);
    const copy = join(h.temp("pulled"), "dir");
    run(["skopeo", "copy", "--src-tls-verify=false", `docker://${name}`, `dir:${copy}`]);
    expect(fileInLayer(dirLayers(copy)[1]!, "pushed")).toBe("pushed by build\n");
    expect(localImages()[name]?.target.digest).toBe(r.digest);
  });

  test("oci-mediatypes=true pushes an OCI manifest", async () => {
    const r = await buildImage(`type=image,name=${registry.host}/app/oci:v1,push=true,oci-mediatypes=true`);
    const manifest = JSON.parse(run(["skopeo", "inspect", "--raw", ...docker("app/oci:v1")]).toString()) as Manifest;
    expect(manifest.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(manifest.config.mediaType).toBe("application/vnd.oci.image.config.v1+json");
    expect(manifest.layers.map((l) => l.mediaType)).toEqual(Array(2).fill("application/vnd.oci.image.layer.v1.tar+gzip"));
    expect(skopeoJson("inspect", ...docker("app/oci:v1")).Digest).toBe(r.digest);
  });

  test("two names (a quoted name=a,b) are both named and pushed; push-by-digest pushes no tag", async () => {
    const [a, b] = [`${registry.host}/app/two:a`, `${registry.host}/app/two:b`];
    const r = await buildImage(`type=image,"name=${a},${b}",push=true`);
    expect(responseValue(r.stderr, "image.name")).toBe(`${a},${b}`);
    for (const tag of ["a", "b"]) expect(skopeoJson("inspect", ...docker(`app/two:${tag}`)).Digest).toBe(r.digest);
    expect(localImages()[a]?.target.digest).toBe(r.digest);
    expect(localImages()[b]?.target.digest).toBe(r.digest);

    const byDigest = await buildImage(`type=image,name=${registry.host}/app/bydigest:v1,push=true,push-by-digest=true`);
    const raw = run(["skopeo", "inspect", "--raw", ...docker(`app/bydigest@${byDigest.digest}`)]);
    expect(`sha256:${new Bun.CryptoHasher("sha256").update(raw).digest("hex")}`).toBe(byDigest.digest);
    expect(() => run(["skopeo", "inspect", ...docker("app/bydigest:v1")])).toThrow(/manifest unknown|not found/i);
  });

  test("no name: the image is made and named nowhere; dangling-name-prefix names it PREFIX@DIGEST; store=false names nothing", async () => {
    const before = Object.keys(localImages());
    const bare = await buildImage("type=image");
    expect(bare.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Object.keys(localImages())).toEqual(before);
    const dangling = await buildImage("type=image,dangling-name-prefix=example.test/dangling");
    expect(responseValue(dangling.stderr, "image.name")).toBe(`example.test/dangling@${dangling.digest}`);
    expect(localImages()[`example.test/dangling@${dangling.digest}`]?.target.digest).toBe(dangling.digest);
    const canonical = await buildImage("type=image,name=example.test/app/canon:v1,name-canonical=true,unpack=true");
    expect(localImages()[`example.test/app/canon:v1@${canonical.digest}`]?.target.digest).toBe(canonical.digest);
    // image.name answers with the name as given, as BuildKit's does; the store has it normalized.
    const short = await buildImage("type=image,name=short:tag");
    expect(responseValue(short.stderr, "image.name")).toBe("short:tag");
    expect(localImages()["docker.io/library/short:tag"]?.target.digest).toBe(short.digest);
    await buildImage("type=image,name=example.test/app/unstored:v1,store=false");
    expect(localImages()["example.test/app/unstored:v1"]).toBeUndefined();
  });

  test("annotations go into the manifest (annotation.K, annotation-manifest.K) and onto its descriptor", async () => {
    const r = await buildImage(
      `type=image,name=${registry.host}/app/annotated:v1,push=true,annotation.org.opencontainers.image.title=hello,annotation-manifest[linux/${hostArch()}].extra=1,annotation-manifest-descriptor.d=2`,
    );
    const manifest = JSON.parse(run(["skopeo", "inspect", "--raw", ...docker("app/annotated:v1")]).toString()) as Manifest & { annotations?: Record<string, string> };
    expect(manifest.annotations).toEqual({ extra: "1", "org.opencontainers.image.title": "hello" });
    // A descriptor annotation needs OCI media types: BuildKit switches to them.
    expect(manifest.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    const descriptor = JSON.parse(Buffer.from(responseValue(r.stderr, "containerimage.descriptor")!, "base64").toString()) as { annotations?: Record<string, string>; platform?: { os: string } };
    expect(descriptor.annotations).toEqual({ d: "2" });
    expect(descriptor.platform?.os).toBe("linux");
  });

  test("push=false stores the image in the state directory and names it in images.json, pushing nothing", async () => {
    const name = `${registry.host}/app/local-only:v1`;
    const r = await buildImage(`type=image,name=${name}`);
    expect(localImages()[name]?.target).toMatchObject({ digest: r.digest, mediaType: "application/vnd.docker.distribution.manifest.v2+json" });
    const blob = (digest: string) => join(h.root, "content/blobs/sha256", digest.slice(7));
    const manifest = JSON.parse(readFileSync(blob(r.digest), "utf8")) as { config: { digest: string }; layers: { digest: string }[] };
    for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) expect(existsSync(blob(d))).toBe(true);
    expect(() => run(["skopeo", "inspect", ...docker("app/local-only:v1")])).toThrow(/manifest unknown|not found/i);
  });

  test.each([
    ["type=image,name=x/y:z,annotation-indx.k=v", "error: output type=image: annotation-indx.k: unrecognized annotation type indx (known: manifest, manifest-descriptor, index, index-descriptor)"],
    ["type=image,name=x/y:z,push=maybe", 'error: output type=image: push must be true or false, not "maybe"'],
    ["type=image,name=x/y:z,dest=out", "error: output type=image: unknown attribute dest"],
    ["type=image,name=x/y@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "error: output type=image: name x/y@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef: a digest cannot be exported to; give a tag"],
  ])("--output %s fails before the build", async (output, message) => {
    const r = await h.build(def(), ["--output", output]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n").pop()).toBe(message);
  });

  test("index annotations on a single-platform result fail at export, as BuildKit's writer refuses them", async () => {
    const r = await h.build(def(), ["--output", "type=image,name=x/y:z,annotation-index.k=v"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n").pop()).toEndWith("output type=image: index annotations not supported for single platform export");
  });

  test("registry.insecure=true pushes to a TLS registry whose certificate is not trusted; without it the push fails", async () => {
    const tls = await startRegistry({ tls: true });
    try {
      const name = `${tls.host}/app/insecure:v1`;
      const refused = await h.build(def(), ["--output", `type=image,name=${name},push=true`]);
      expect(refused.code).toBe(1);
      // A loopback host is spoken to in plain HTTP unless configured (as BuildKit's resolver does): refused.
      expect(refused.stderr.trim().split("\n").pop()).toMatch(new RegExp(`^error: exporting image ${name}: `));
      const r = await buildImage(`type=image,name=${name},push=true,registry.insecure=true`);
      expect(skopeoJson("inspect", "--tls-verify=false", `docker://${name}`).Digest).toBe(r.digest);
    } finally {
      await tls.stop();
    }
  }, 60_000);

  test("a push to a registry that does not answer fails with the image and blob named", async () => {
    const host = `127.0.0.1:${await freePort()}`;
    const r = await h.build(def(), ["--output", `type=image,name=${host}/nobody/here:v1,push=true`]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n").pop()).toMatch(new RegExp(`^error: exporting image ${host}/nobody/here:v1: (checking|pushing) blob sha256:[0-9a-f]{64}`));
  }, 60_000);
});
