// The content store is collected with the records: `buildkit prune` removes the blobs of
// results it removed and of exports nothing names any more, keeps those of images named in
// images.json (push=false), and a later export simply compresses again.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "../build/harness.ts";
import { member } from "../exporters/helpers.ts";
import { cli, sh } from "./cli.ts";

const run = requireIntegration("content store GC tests", { runc: true, busybox: true });
let h: BuildHarness;
beforeEach(() => {
  if (run) h = new BuildHarness();
});
afterEach(() => h?.cleanup());

const blobsDir = () => join(h.root, "content/blobs/sha256");
const blobs = () => (existsSync(blobsDir()) ? readdirSync(blobsDir()).filter((n) => !n.startsWith(".")) : []);
const blob = (digest: string) => join(blobsDir(), digest.slice("sha256:".length));
const def = (text: string) => h.base().run(sh(`echo ${text} > /made`)).root();

async function exportImage(text: string, output: string): Promise<string> {
  const r = await h.build(def(text), ["--output", output]);
  if (r.code !== 0) throw new Error(`build failed: ${r.stderr}`);
  return /^containerimage\.digest: (\S+)$/m.exec(r.stderr)?.[1] ?? "";
}

type Manifest = { config: { digest: string }; layers: { digest: string }[] };

/** Every blob an OCI manifest in the content store names, itself included. */
function imageBlobs(digest: string): string[] {
  const manifest = JSON.parse(readFileSync(blob(digest), "utf8")) as Manifest;
  return [digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
}

/** The layers of the image in an OCI tarball (its manifest and config live only in the tarball). */
function tarballLayers(tarball: string, digest: string): string[] {
  const manifest = JSON.parse(member(tarball, `blobs/sha256/${digest.slice(7)}`).toString()) as Manifest;
  return manifest.layers.map((l) => l.digest);
}

describe.skipIf(!run)("content store garbage collection", () => {
  test("prune --all removes what nothing names, keeps a push=false image whole; a later export compresses again", async () => {
    const kept = await exportImage("kept", "type=image,name=example.test/kept:v1");
    const tarball = join(h.temp("oci"), "image.tar");
    const dropped = await exportImage("dropped", `type=oci,dest=${tarball},name=example.test/dropped:v1`);
    const keptBlobs = imageBlobs(kept);
    const droppedOnly = tarballLayers(tarball, dropped).filter((d) => !keptBlobs.includes(d));
    expect(droppedOnly.length).toBeGreaterThan(0);
    for (const d of [...keptBlobs, ...droppedOnly]) expect(existsSync(blob(d))).toBe(true);
    // A temporary file a killed process left long ago goes too; a fresh one stays.
    const stale = join(blobsDir(), ".tmp-1-stale");
    const fresh = join(blobsDir(), ".tmp-2-fresh");
    writeFileSync(stale, "x");
    writeFileSync(fresh, "x");
    const old = new Date(Date.now() - 2 * 3600e3);
    utimesSync(stale, old, old);

    const pruned = await cli(["prune", "--all", "--root", h.root]);
    expect(pruned.code).toBe(0);
    expect(blobs().sort()).toEqual(keptBlobs.map((d) => d.slice(7)).sort());
    expect([existsSync(stale), existsSync(fresh)]).toEqual([false, true]);

    // Built and exported again (the results were pruned too): its layers are made and stored anew.
    const again = await exportImage("dropped", `type=oci,dest=${tarball},name=example.test/dropped:v1`);
    for (const d of tarballLayers(tarball, again)) expect(existsSync(blob(d))).toBe(true);
  });

  test("automatic GC after a build collects the blobs of the records it removed", async () => {
    await exportImage("one", `type=oci,dest=${join(h.temp("oci"), "one.tar")}`);
    expect(blobs().length).toBeGreaterThan(0);
    // A tiny limit: GC removes every result, then the blobs that were their layers.
    const r = await h.build(def("two"), ["--gc-keep-storage", "1B"]);
    expect(r.code).toBe(0);
    expect(blobs()).toEqual([]);
  });
});
