// Cache export and import through a local directory (an OCI layout): state dir A exports,
// empty state dirs import and reuse A's results without running anything.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "../build/harness.ts";
import { cachedSteps, cacheGraph, completedSteps, finalTopLayer, onState, ranSteps, readLayout, resultCount, treeDigest, warnings } from "./helpers.ts";

const run = requireIntegration("local cache export/import tests", { runc: true, busybox: true });
let h: BuildHarness;
beforeAll(() => {
  if (run) h = new BuildHarness();
});
afterAll(() => h?.cleanup());

const STEPS = 5;

describe.skipIf(!run)("cache export and import, type=local", () => {
  test("mode=max: an empty state dir imports every step CACHED, runs nothing, exports the same tree", async () => {
    const def = cacheGraph(h, "max");
    const cache = join(h.temp("cache"), "dir");
    const [outA, outB] = [h.temp("outA"), h.temp("outB")];
    const a = await onState(h, join(h.temp("stateA"), "s")).build(def, ["--export-cache", `type=local,dest=${cache},mode=max`, "--output", `type=local,dest=${outA}`]);
    if (a.code !== 0) console.log(a.stderr);
    expect(a.code).toBe(0);
    expect(ranSteps(a).length).toBe(STEPS);
    expect(existsSync(join(cache, "oci-layout"))).toBe(true);

    const b = await onState(h, join(h.temp("stateB"), "s")).build(def, ["--import-cache", `type=local,src=${cache}`, "--output", `type=local,dest=${outB}`]);
    if (b.code !== 0) console.log(b.stderr);
    expect(b.code).toBe(0);
    expect(ranSteps(b)).toEqual([]);
    expect(cachedSteps(b).length).toBe(STEPS);
    expect(b.stderr).toContain("CACHED");
    expect(treeDigest(outB)).toBe(treeDigest(outA));
    expect(readFileSync(join(outB, "side-copy"), "utf8")).toBe("side max\n");
    expect(h.leftoverMounts()).toEqual([]);
  });

  test("imported results are recorded locally: the next build hits without --import-cache", async () => {
    const def = cacheGraph(h, "local-again");
    const cache = join(h.temp("cache"), "dir");
    expect((await onState(h, join(h.temp("stateA"), "s")).build(def, ["--export-cache", `type=local,dest=${cache},mode=max`])).code).toBe(0);
    const b = onState(h, join(h.temp("stateB"), "s"));
    expect(ranSteps(await b.build(def, ["--import-cache", `type=local,src=${cache}`]))).toEqual([]);
    const again = await b.build(def);
    expect(again.code).toBe(0);
    expect(ranSteps(again)).toEqual([]);
    // Every result that was materialised (the final chain) is in the local index; the side
    // step's result was never needed, so it was not fetched and is not known here.
    expect(cachedSteps(again).length).toBe(STEPS - 1);
    expect(cachedSteps(again).some((n) => n.includes("echo side"))).toBe(false);
  });

  test("mode=min exports only the final result's chain; the side step is not cached but does not run", async () => {
    const def = cacheGraph(h, "min");
    const [min, max] = [join(h.temp("cache"), "min"), join(h.temp("cache"), "max")];
    const a = await onState(h, join(h.temp("stateA"), "s")).build(def, ["--export-cache", `type=local,dest=${min}`, "--export-cache", `type=local,dest=${max},mode=max`]);
    expect(a.code).toBe(0);
    // Both list every step's record (BuildKit's links need them); only max has the side step's result.
    expect(resultCount(readLayout(min))).toBe(STEPS - 1);
    expect(resultCount(readLayout(max))).toBe(STEPS);
    expect(readLayout(min).index.manifests.length).toBeLessThan(readLayout(max).index.manifests.length);

    const b = await onState(h, join(h.temp("stateB"), "s")).build(def, ["--import-cache", `type=local,src=${min}`]);
    expect(b.code).toBe(0);
    expect(ranSteps(b)).toEqual([]);
    expect(cachedSteps(b).length).toBe(STEPS - 1);
    expect(cachedSteps(b).some((n) => n.includes("echo side"))).toBe(false);
  });

  test("a corrupted blob makes its record a miss: that step runs, with a warning, and the output is right", async () => {
    const def = cacheGraph(h, "corrupt");
    const cache = join(h.temp("cache"), "dir");
    const [outA, outB] = [h.temp("outA"), h.temp("outB")];
    expect((await onState(h, join(h.temp("stateA"), "s")).build(def, ["--export-cache", `type=local,dest=${cache},mode=max`, "--output", `type=local,dest=${outA}`])).code).toBe(0);
    // The final step's own (top) layer: no other record uses it.
    const top = finalTopLayer(readLayout(cache));
    const path = join(cache, "blobs/sha256", top.digest.replace("sha256:", ""));
    writeFileSync(path, Buffer.alloc(top.size, 7));

    const b = await onState(h, join(h.temp("stateB"), "s")).build(def, ["--import-cache", `type=local,src=${cache}`, "--output", `type=local,dest=${outB}`]);
    if (b.code !== 0) console.log(b.stderr);
    expect(b.code).toBe(0);
    expect(ranSteps(b)).toEqual([expect.stringMatching(/^copy /)]);
    expect(warnings(b).join("")).toContain(`blob ${top.digest}: digest mismatch`);
    expect(treeDigest(outB)).toBe(treeDigest(outA));
  });

  test("an import that cannot be read is a warning and the build runs", async () => {
    const missing = join(h.temp("cache"), "nothing-here");
    const r = await onState(h, join(h.temp("stateC"), "s")).build(cacheGraph(h, "missing"), ["--import-cache", `type=local,src=${missing}`]);
    expect(r.code).toBe(0);
    expect(ranSteps(r).length).toBe(STEPS);
    expect(warnings(r).join("")).toContain(`importing cache from ${missing}: ${missing} is not an OCI image layout (no index.json)`);
  });

  test("export into a layout keeps its other tags and blobs; a non-layout directory is refused", async () => {
    const cache = join(h.temp("cache"), "dir");
    const state = onState(h, join(h.temp("stateA"), "s"));
    expect((await state.build(cacheGraph(h, "tag1"), ["--export-cache", `type=local,dest=${cache},tag=one`])).code).toBe(0);
    expect((await state.build(cacheGraph(h, "tag2"), ["--export-cache", `type=local,dest=${cache}`])).code).toBe(0);
    const index = JSON.parse(readFileSync(join(cache, "index.json"), "utf8")) as { manifests: { annotations: Record<string, string> }[] };
    expect(index.manifests.map((m) => m.annotations["org.opencontainers.image.ref.name"])).toEqual(["one", "latest"]);
    const other = h.temp("notlayout");
    writeFileSync(join(other, "precious.txt"), "keep me\n");
    const r = await state.build(cacheGraph(h, "tag2"), ["--export-cache", `type=local,dest=${other}`]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n").at(-1)).toBe(`error: exporting cache to ${other}: the directory is not empty and is not an OCI image layout`);
    expect(readFileSync(join(other, "precious.txt"), "utf8")).toBe("keep me\n");
  });

  test("bad flags are one-line usage errors", async () => {
    const cases: [string[], string][] = [
      [["--export-cache", "type=local"], `--export-cache "type=local": dest is required`],
      [["--export-cache", "type=local,dest=/x,mode=all"], `--export-cache "type=local,dest=/x,mode=all": mode must be min or max, not "all"`],
      [["--import-cache", "type=s3,src=/x"], `--import-cache "type=s3,src=/x": unknown cache type "s3" (known: local, registry)`],
      [["--import-cache", "src=/x"], `--import-cache "src=/x": type is required (type=local|registry)`],
      [["--import-cache", "type=local,dest=/x"], `--import-cache "type=local,dest=/x": unknown attribute dest`],
      [["--export-cache", "type=registry"], `--export-cache "type=registry": ref is required`],
      [["--export-cache", "type=registry,ref=Bad/Ref"], `--export-cache "type=registry,ref=Bad/Ref": invalid reference "Bad/Ref": repository name must be lowercase`],
      [["--export-cache", `type=registry,ref=127.0.0.1:5000/c@sha256:${"a".repeat(64)}`], `--export-cache "type=registry,ref=127.0.0.1:5000/c@sha256:${"a".repeat(64)}": ref must name a tag, not a digest`],
    ];
    for (const [args, message] of cases) {
      const r = await h.build(cacheGraph(h, "flags"), args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toEqual([`error: ${message}`]);
    }
  });

  test("completed steps are only the graph's five", async () => {
    const r = await h.build(cacheGraph(h, "count"));
    expect(completedSteps(r).length).toBe(STEPS);
  });
});
