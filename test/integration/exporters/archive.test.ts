// `--output type=oci` and `type=docker` end to end: real builds (runc, overlayfs), archives read
// back with skopeo, layer contents checked, blobs reused by a second export.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "../build/harness.ts";
import { dirLayers, fileInLayer, member, memberJson, members, responseValue, run, skopeoJson } from "./helpers.ts";

const enabled = requireIntegration("image archive exporter tests", { runc: true, busybox: true, tools: ["skopeo", "tar", "zstd"] });
let h: BuildHarness;
beforeAll(() => {
  if (enabled) h = new BuildHarness();
});
afterAll(() => h?.cleanup());

const sh = (script: string) => ({ args: ["sh", "-c", script] });
/** busybox, one step writing a file, one step changing nothing (an empty layer). */
const def = () => h.base().run(sh("echo made by build > /made-by-build")).root().run(sh("true")).root();

interface Manifest {
  mediaType: string;
  config: { digest: string; mediaType: string };
  layers: { digest: string; mediaType: string; size: number }[];
}
interface Index {
  manifests: { digest: string; mediaType: string; annotations?: Record<string, string>; platform?: { architecture: string; os: string } }[];
}
const blob = (tar: string, digest: string) => member(tar, `blobs/sha256/${digest.replace(/^sha256:/, "")}`);

const pick = (st: { ino: number; mtimeMs: number }) => ({ ino: st.ino, mtimeMs: st.mtimeMs });

/** The content store files of an archive's layers. */
function storedLayers(tar: string, stderr: string): string[] {
  const manifest = JSON.parse(blob(tar, responseValue(stderr, "containerimage.digest")!).toString()) as Manifest;
  return manifest.layers.map((l) => join(h.root, "content/blobs/sha256", l.digest.replace(/^sha256:/, "")));
}

/** How often the content index handed out a stored layer of this compression level. */
function layerHits(level: number): number {
  const db = new Database(join(h.root, "content/index.db"), { readonly: true });
  try {
    return db.query<{ n: number | null }, [number]>("SELECT SUM(hits) AS n FROM layers WHERE level = ?").get(level)?.n ?? 0;
  } finally {
    db.close();
  }
}

async function exportTo(output: string, env?: Record<string, string>, state = def()) {
  const r = await h.build(state, ["--output", output], { env });
  if (r.code !== 0) throw new Error(`build failed: ${r.stderr}`);
  return r;
}

describe.skipIf(!enabled)("oci and docker archives", () => {
  test("an OCI tarball reads back with skopeo and its layers hold what the build made", async () => {
    const file = join(h.temp("oci"), "image.tar");
    const r = await exportTo(`type=oci,dest=${file},name=example.test/app:v1`);
    const digest = responseValue(r.stderr, "containerimage.digest");
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(responseValue(r.stderr, "image.name")).toBe("example.test/app:v1");
    expect(skopeoJson("inspect", `oci-archive:${file}`).Digest).toBe(digest);
    expect(skopeoJson("inspect", `oci-archive:${file}:v1`).Digest).toBe(digest);

    // index.json as BuildKit's oci exporter writes it: no media type; the manifest dated, named, with its platform.
    const index = memberJson<Index & { mediaType?: string }>(file, "index.json");
    expect(index.mediaType).toBeUndefined();
    const created = index.manifests[0]?.annotations?.["org.opencontainers.image.created"] ?? "";
    expect(created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(index.manifests[0]?.annotations).toEqual({ "io.containerd.image.name": "example.test/app:v1", "org.opencontainers.image.created": created, "org.opencontainers.image.ref.name": "v1" });
    expect(index.manifests[0]?.platform).toEqual({ architecture: process.arch === "arm64" ? "arm64" : "amd64", os: "linux" });
    expect(member(file, "index.json").toString()).toStartWith('{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":');
    expect(memberJson(file, "oci-layout")).toEqual({ imageLayoutVersion: "1.0.0" });

    const copy = join(h.temp("copy"), "dir");
    run(["skopeo", "copy", `oci-archive:${file}`, `dir:${copy}`]);
    const layers = dirLayers(copy);
    expect(layers.length).toBe(2); // busybox, then the step's file; the `true` step added nothing
    expect(fileInLayer(layers[0]!, "bin/busybox")).toBeDefined();
    expect(fileInLayer(layers[1]!, "made-by-build")).toBe("made by build\n");

    const manifest = JSON.parse(blob(file, digest!).toString()) as Manifest;
    const config = JSON.parse(blob(file, manifest.config.digest).toString()) as { rootfs: { diff_ids: string[] }; history: { created_by: string; empty_layer?: boolean }[] };
    expect(config.rootfs.diff_ids.length).toBe(2);
    expect(config.history.map((e) => [e.created_by, e.empty_layer ?? false])).toEqual([
      ["local://rootfs", false],
      ["sh -c echo made by build > /made-by-build", false],
      ["sh -c true", true],
    ]);
  });

  test("dest=- streams the OCI tarball to stdout", async () => {
    const r = await exportTo("type=oci,dest=-");
    const file = join(h.temp("stdout"), "image.tar");
    writeFileSync(file, r.stdout);
    expect(skopeoJson("inspect", `oci-archive:${file}`).Digest).toBe(responseValue(r.stderr, "containerimage.digest"));
  });

  test("a docker tarball is `docker save` format: manifest.json, gzip layers (BuildKit's default), Docker media types", async () => {
    const file = join(h.temp("docker"), "image.tar");
    const r = await exportTo(`type=docker,dest=${file},name=busyapp:v2`);
    expect(members(file)).toContain("manifest.json");
    const [entry] = memberJson<{ Config: string; RepoTags: string[]; Layers: string[] }[]>(file, "manifest.json");
    expect(entry?.RepoTags).toEqual(["busyapp:v2"]);
    expect(entry?.Layers.length).toBe(2);
    expect(fileInLayer(member(file, entry!.Layers[1]!), "made-by-build")).toBe("made by build\n");
    const manifest = JSON.parse(blob(file, responseValue(r.stderr, "containerimage.digest")!).toString()) as Manifest;
    expect(manifest.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(manifest.config.mediaType).toBe("application/vnd.docker.container.image.v1+json");
    expect(manifest.layers.map((l) => l.mediaType)).toEqual(Array(2).fill("application/vnd.docker.image.rootfs.diff.tar.gzip"));
    expect(entry?.Layers).toEqual(manifest.layers.map((l) => `blobs/sha256/${l.digest.replace(/^sha256:/, "")}`));
    const copy = join(h.temp("docker-copy"), "dir");
    run(["skopeo", "copy", `docker-archive:${file}`, `dir:${copy}`]);
    expect(fileInLayer(dirLayers(copy)[1]!, "made-by-build")).toBe("made by build\n");
  });

  test("two names (a quoted name=a,b): two index.json entries and both RepoTags, as containerd's archive writer lists them", async () => {
    const file = join(h.temp("two-names"), "image.tar");
    await exportTo(`type=docker,dest=${file},"name=example.test/one:a,two:b"`);
    const index = memberJson<Index>(file, "index.json");
    expect(index.manifests.map((m) => m.annotations?.["io.containerd.image.name"])).toEqual(["example.test/one:a", "docker.io/library/two:b"]);
    expect(new Set(index.manifests.map((m) => m.digest)).size).toBe(1);
    expect(memberJson<{ RepoTags: string[] }[]>(file, "manifest.json")[0]?.RepoTags).toEqual(["example.test/one:a", "two:b"]);
  });

  test.each([
    ["gzip", "application/vnd.oci.image.layer.v1.tar+gzip", "1f8b"],
    ["zstd", "application/vnd.oci.image.layer.v1.tar+zstd", "28b52ffd"],
    ["uncompressed", "application/vnd.oci.image.layer.v1.tar", ""],
  ])("compression=%s,force-compression=true gives %s layers", async (compression, mediaType, magic) => {
    const file = join(h.temp(compression), "image.tar");
    const r = await exportTo(`type=oci,dest=${file},compression=${compression},force-compression=true`);
    const manifest = JSON.parse(blob(file, responseValue(r.stderr, "containerimage.digest")!).toString()) as Manifest;
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([mediaType, mediaType]);
    for (const layer of manifest.layers) {
      const bytes = blob(file, layer.digest);
      expect(bytes.length).toBe(layer.size);
      if (magic) expect(bytes.subarray(0, magic.length / 2).toString("hex")).toBe(magic);
    }
    expect(fileInLayer(blob(file, manifest.layers[1]!.digest), "made-by-build")).toBe("made by build\n");
    expect(skopeoJson("inspect", `oci-archive:${file}`).Digest).toBe(responseValue(r.stderr, "containerimage.digest"));
  });

  test("layers that have a blob keep it unless the compression is forced; a forced one is converted, diffIDs unchanged", async () => {
    type Config = { rootfs: { diff_ids: string[] } };
    const read = (file: string, stderr: string) => {
      const manifest = JSON.parse(blob(file, responseValue(stderr, "containerimage.digest")!).toString()) as Manifest;
      return { manifest, diffIDs: (JSON.parse(blob(file, manifest.config.digest).toString()) as Config).rootfs.diff_ids };
    };
    const dir = h.temp("keep");
    const out = (name: string) => join(dir, `${name}.tar`);
    const gz = await exportTo(`type=oci,dest=${out("gzip")}`);
    const before = read(out("gzip"), gz.stderr);
    // One more step: only its layer is made now, in the compression asked for.
    const more = def().run(sh("echo more > /more")).root();
    const kept = read(out("kept"), (await exportTo(`type=oci,dest=${out("kept")},compression=uncompressed`, undefined, more)).stderr);
    expect(kept.manifest.layers.slice(0, 2)).toEqual(before.manifest.layers);
    expect(kept.manifest.layers[2]?.mediaType).toBe("application/vnd.oci.image.layer.v1.tar");
    expect(kept.diffIDs.slice(0, 2)).toEqual(before.diffIDs);
    expect(fileInLayer(blob(out("kept"), kept.manifest.layers[2]!.digest), "more")).toBe("more\n");
    // Forced: every layer zstd, converted from the kept blobs, the same diffIDs.
    const forced = read(out("forced"), (await exportTo(`type=oci,dest=${out("forced")},compression=zstd,force-compression=true`, undefined, more)).stderr);
    expect(forced.manifest.layers.map((l) => l.mediaType)).toEqual(Array(3).fill("application/vnd.oci.image.layer.v1.tar+zstd"));
    expect(forced.diffIDs).toEqual(kept.diffIDs);
    expect(fileInLayer(blob(out("forced"), forced.manifest.layers[0]!.digest), "bin/busybox")).toBeDefined();
  });

  test("a second export of the same result reuses the stored blobs without compressing again", async () => {
    const options = "compression-level=4";
    // A chain no other test exports: the first export writes the blobs.
    const fresh = def().run(sh("echo reuse > /reuse")).root();
    const first = join(h.temp("reuse"), "a.tar");
    const a = await exportTo(`type=oci,dest=${first},${options}`, undefined, fresh);
    const hitsBefore = layerHits(4);
    const stored = storedLayers(first, a.stderr).map((p) => ({ p, ...pick(statSync(p)) }));
    const second = join(h.temp("reuse"), "b.tar");
    const b = await exportTo(`type=oci,dest=${second},${options}`, undefined, fresh);
    // The chain's new snapshot (the reuse step) was written at level 4 and is found again; the
    // others (busybox, the file, the empty step) keep their first blobs, whose hits count at level 0.
    expect(layerHits(4) - hitsBefore).toBe(1);
    expect(storedLayers(second, b.stderr)).toEqual(stored.map((s) => s.p));
    // The blob files were not written again.
    expect(stored.map((s) => ({ p: s.p, ...pick(statSync(s.p)) }))).toEqual(stored);
  });

  test("source-date-epoch (attribute or environment) makes the image reproducible", async () => {
    const file = join(h.temp("sde"), "a.tar");
    const a = await exportTo(`type=oci,dest=${file},source-date-epoch=10`);
    const b = await exportTo(`type=oci,dest=${join(h.temp("sde"), "b.tar")}`, { SOURCE_DATE_EPOCH: "10" });
    const digest = responseValue(a.stderr, "containerimage.digest")!;
    expect(responseValue(b.stderr, "containerimage.digest")).toBe(digest);
    const manifest = JSON.parse(blob(file, digest).toString()) as Manifest;
    const config = JSON.parse(blob(file, manifest.config.digest).toString()) as { created: string; history: { created: string }[] };
    expect(config.created).toBe("1970-01-01T00:00:10Z");
    expect(config.history.every((e) => e.created === "1970-01-01T00:00:10Z")).toBe(true);
  });

  test("compression=zstd with oci-mediatypes=false: OCI types all the same, with a warning (BuildKit's EnableOCITypes)", async () => {
    const file = join(h.temp("out"), "z.tar");
    const r = await h.build(def(), ["--output", `type=docker,dest=${file},compression=zstd,oci-mediatypes=false`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("warning: forcibly turning on oci-mediatype mode for zstd");
    const index = memberJson<{ manifests: { mediaType: string }[] }>(file, "index.json");
    expect(index.manifests[0]!.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
  });

  test.each([
    ["type=oci,dest=x.tar,colour=blue", "error: output type=oci: unknown attribute colour"],
    ["type=docker,name=a:b", "error: output type=docker: dest is required"],
    ["type=oci,dest=x.tar,compression=xz", 'error: output type=oci: compression must be gzip, zstd or uncompressed, not "xz"'],
    ["type=oci,dest=-,tar=false", "error: output type=oci: tar=false writes a directory; dest cannot be stdout"],
    ["type=oci,dest=x,tar=maybe", 'error: output type=oci: tar must be true or false, not "maybe"'],
    ["type=oci,dest=x.tar,compression-level=12", "error: output type=oci: compression-level for gzip must be 0 to 9, not 12"],
    ["type=oci,dest=x.tar,name=Bad:Name", 'error: output type=oci: name Bad:Name: invalid reference "Bad:Name": repository name must be lowercase'],
  ])("--output %s fails before the build", async (output, message) => {
    const r = await h.build(def(), ["--output", output]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n").pop()).toBe(message);
    expect(r.stderr).not.toContain("#1 "); // nothing ran
  });
});
