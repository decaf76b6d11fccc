// OCI and docker tarballs from `--output type=oci|docker` imported by a real containerd daemon
// (`ctr images import`, which unpacks them and so checks every layer against the config's
// diffIDs), then run with `ctr run` to read the file the build made.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startContainerd, type TestContainerd } from "../../fixtures/containerd.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "../build/harness.ts";
import { responseValue } from "./helpers.ts";

const enabled = requireIntegration("containerd import tests", { runc: true, busybox: true, tools: ["containerd", "ctr"] });
let h: BuildHarness;
let containerd: TestContainerd;
beforeAll(async () => {
  if (!enabled) return;
  h = new BuildHarness();
  containerd = await startContainerd();
});
afterAll(async () => {
  await containerd?.stop();
  h?.cleanup();
});

const def = () => h.base().run({ args: ["sh", "-c", "echo made by build > /made-by-build"] }).root();

/** Exports the build as `type`, imports it, and returns the image's digest as containerd lists it. */
async function exportAndImport(type: "oci" | "docker", name: string): Promise<{ built: string; listed: string }> {
  const file = join(h.temp(type), "image.tar");
  const r = await h.build(def(), ["--output", `type=${type},dest=${file},name=${name}`]);
  if (r.code !== 0) throw new Error(`build failed: ${r.stderr}`);
  containerd.ctr(["images", "import", file]);
  const row = containerd
    .ctr(["images", "ls"])
    .split("\n")
    .find((l) => l.startsWith(`${name} `));
  return { built: responseValue(r.stderr, "containerimage.digest") ?? "", listed: row?.split(/\s+/)[2] ?? "" };
}

function runImage(name: string, id: string): string {
  return containerd.ctr(["run", "--rm", "--net-host", name, id, "cat", "/made-by-build"]);
}

describe.skipIf(!enabled)("containerd imports our tarballs", () => {
  test("an OCI tarball imports under its name with our manifest digest, unpacks and runs", async () => {
    const { built, listed } = await exportAndImport("oci", "example.test/oci:v1");
    expect(built).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(listed).toBe(built);
    expect(runImage("example.test/oci:v1", "oci-run")).toBe("made by build\n");
  });

  test("a docker tarball imports, unpacks and runs", async () => {
    const { listed } = await exportAndImport("docker", "example.test/docker:v1");
    expect(listed).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(runImage("example.test/docker:v1", "docker-run")).toBe("made by build\n");
  });
});
