// Cache export and import through a real registry (Debian's docker-registry on 127.0.0.1):
// state dir A pushes its cache under a tag, an empty state dir pulls and reuses it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { startRegistry, type TestRegistry } from "../../fixtures/registry.ts";
import { BuildHarness } from "../build/harness.ts";
import { cachedSteps, cacheGraph, finalTopLayer, onState, ranSteps, resultCount, treeDigest, warnings } from "./helpers.ts";
import type { BuildkitCacheDoc } from "./helpers.ts";

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


async function inspect(ref: string): Promise<BuildkitCacheDoc> {
  const index = JSON.parse(Bun.spawnSync(["skopeo", "inspect", "--raw", "--tls-verify=false", `docker://${ref}`]).stdout.toString()) as BuildkitCacheDoc["index"];
  const config = index.manifests.find((m) => m.mediaType === "application/vnd.buildkit.cacheconfig.v0");
  const [host, ...rest] = ref.replace(/:[^:/]+$/, "").split("/");
  const res = await fetch(`http://${host}/v2/${rest.join("/")}/blobs/${config?.digest}`);
  return { index, config: (await res.json()) as BuildkitCacheDoc["config"] };
}

describe.skipIf(!run)("cache export and import, type=registry", () => {
  test("an empty state dir imports every step CACHED from the registry, runs nothing, exports the same tree", async () => {
    const def = cacheGraph(h, "registry");
    const ref = `${registry.host}/cache:latest`;
    const [outA, outB] = [h.temp("outA"), h.temp("outB")];
    const a = await onState(h, join(h.temp("stateA"), "s")).build(def, ["--export-cache", `type=registry,ref=${ref},mode=max`, "--output", `type=local,dest=${outA}`]);
    if (a.code !== 0) console.log(a.stderr);
    expect(a.code).toBe(0);
    const doc = await inspect(ref);
    expect(doc.index.manifests.at(-1)?.mediaType).toBe("application/vnd.buildkit.cacheconfig.v0");
    expect(resultCount(doc)).toBe(STEPS);

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
    expect(resultCount(await inspect(min))).toBe(STEPS - 1);
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
    const top = finalTopLayer(await inspect(ref));
    writeFileSync(registry.blobPath(top.digest), Buffer.alloc(top.size, 7));

    const b = await onState(h, join(h.temp("stateB"), "s")).build(def, ["--import-cache", `type=registry,ref=${ref}`]);
    if (b.code !== 0) console.log(b.stderr);
    expect(b.code).toBe(0);
    expect(ranSteps(b)).toEqual([expect.stringMatching(/^copy /)]);
    expect(warnings(b).join("")).toContain(`blob ${top.digest}: digest mismatch`);
  });

  test("a tag that does not exist is a warning, and the build runs", async () => {
    const r = await onState(h, join(h.temp("stateC"), "s")).build(cacheGraph(h, "registry-missing"), ["--import-cache", `type=registry,ref=${registry.host}/nothing:latest`]);
    expect(r.code).toBe(0);
    expect(ranSteps(r).length).toBe(STEPS);
    expect(warnings(r).join("")).toContain(`importing cache from ${registry.host}/nothing:latest: fetching manifest ${registry.host}/nothing:latest: 404`);
  });
});
