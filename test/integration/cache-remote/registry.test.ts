// Cache export and import through a real registry (Debian's docker-registry on 127.0.0.1):
// state dir A pushes its cache under a tag, an empty state dir pulls and reuses it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { startRegistry, type TestRegistry } from "../../fixtures/registry.ts";
import { BuildHarness } from "../build/harness.ts";
import { cachedSteps, cacheGraph, onState, ranSteps, treeDigest, warnings } from "./helpers.ts";

const run = requireIntegration("registry cache export/import tests", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] });
let h: BuildHarness;
let registry: TestRegistry;
beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  h?.cleanup();
});

const STEPS = 5;

interface Manifest {
  config: { mediaType: string; digest: string };
  layers: { digest: string; size: number }[];
}

async function inspect(ref: string): Promise<{ manifest: Manifest; config: { records: { description?: string; layers: number[] }[] } }> {
  const raw = (args: string[]) => Bun.spawnSync(["skopeo", ...args, "--tls-verify=false", `docker://${ref}`]).stdout.toString();
  return { manifest: JSON.parse(raw(["inspect", "--raw"])) as Manifest, config: JSON.parse(raw(["inspect", "--config", "--raw"])) };
}

describe.skipIf(!run)("cache export and import, type=registry", () => {
  test("an empty state dir imports every step CACHED from the registry, runs nothing, exports the same tree", async () => {
    const def = cacheGraph(h, "registry");
    const ref = `${registry.host}/cache:latest`;
    const [outA, outB] = [h.temp("outA"), h.temp("outB")];
    const a = await onState(h, join(h.temp("stateA"), "s")).build(def, ["--export-cache", `type=registry,ref=${ref},mode=max`, "--output", `type=local,dest=${outA}`]);
    if (a.code !== 0) console.log(a.stderr);
    expect(a.code).toBe(0);
    const { manifest, config } = await inspect(ref);
    expect(manifest.config.mediaType).toBe("application/vnd.buildkit.cacheconfig.v0");
    expect(config.records.length).toBe(STEPS);

    const b = await onState(h, join(h.temp("stateB"), "s")).build(def, ["--import-cache", `type=registry,ref=${ref}`, "--output", `type=local,dest=${outB}`]);
    if (b.code !== 0) console.log(b.stderr);
    expect(b.code).toBe(0);
    expect(ranSteps(b)).toEqual([]);
    expect(cachedSteps(b).length).toBe(STEPS);
    expect(treeDigest(outB)).toBe(treeDigest(outA));
  });

  test("mode=min pushes the final chain only; a second export to another repository mounts or skips blobs", async () => {
    const def = cacheGraph(h, "registry-min");
    const state = onState(h, join(h.temp("stateA"), "s"));
    const min = `${registry.host}/cache-min:v1`;
    expect((await state.build(def, ["--export-cache", `type=registry,ref=${min}`])).code).toBe(0);
    const { config } = await inspect(min);
    expect(config.records.length).toBe(STEPS - 1);
    expect(config.records.some((r) => r.description?.includes("echo side"))).toBe(false);
    const again = await state.build(def, ["--export-cache", `type=registry,ref=${registry.host}/other:v1`]);
    expect(again.code).toBe(0);
    const statuses = again.trace().filter((e) => e.type === "status" && /^(exists|mounted|uploaded) sha256:/.test(String(e.id)));
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((e) => !String(e.id).startsWith("uploaded"))).toBe(true);
  });

  test("a blob corrupted in the registry is a miss for its record: only that step runs", async () => {
    const def = cacheGraph(h, "registry-corrupt");
    const ref = `${registry.host}/cache-corrupt:latest`;
    expect((await onState(h, join(h.temp("stateA"), "s")).build(def, ["--export-cache", `type=registry,ref=${ref},mode=max`])).code).toBe(0);
    const { manifest, config } = await inspect(ref);
    const final = config.records.find((r) => r.description?.startsWith("copy"));
    const top = manifest.layers[final!.layers.at(-1)!]!;
    writeFileSync(registry.blobPath(top.digest), Buffer.alloc(top.size, 7));

    const b = await onState(h, join(h.temp("stateB"), "s")).build(def, ["--import-cache", `type=registry,ref=${ref}`]);
    if (b.code !== 0) console.log(b.stderr);
    expect(b.code).toBe(0);
    expect(ranSteps(b)).toEqual([final!.description!]);
    expect(warnings(b).join("")).toContain(`blob ${top.digest}: digest mismatch`);
  });

  test("a tag that does not exist is a warning, and the build runs", async () => {
    const r = await onState(h, join(h.temp("stateC"), "s")).build(cacheGraph(h, "registry-missing"), ["--import-cache", `type=registry,ref=${registry.host}/nothing:latest`]);
    expect(r.code).toBe(0);
    expect(ranSteps(r).length).toBe(STEPS);
    expect(warnings(r).join("")).toContain(`importing cache from ${registry.host}/nothing:latest: resolving image ${registry.host}/nothing:latest: 404`);
  });
});
