// `buildkit du` and `buildkit prune` on state made by real builds (runc, overlayfs, busybox).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { scratch } from "../../../src/core/llb/index.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "../build/harness.ts";
import { cli, records, sh, totalSize } from "./cli.ts";

const run = requireIntegration("du/prune integration tests", { runc: true, busybox: true });
let h: BuildHarness;
beforeEach(() => {
  if (run) h = new BuildHarness();
});
afterEach(() => h?.cleanup());

/** A step on the busybox base writing `bytes` random bytes to /name and its name to /name.txt. */
function writer(name: string, bytes: number) {
  return h.base().run(sh(`head -c ${bytes} /dev/urandom > /${name}; echo ${name} > /${name}.txt`)).root();
}

async function build(def: ReturnType<typeof writer>, out?: string) {
  const r = await h.build(def, out ? ["--output", `type=local,dest=${out}`] : []);
  if (r.code !== 0) throw new Error(`build failed: ${r.stderr}`);
  return r;
}

/** Whether the build's step writing /name was a cache hit (it must have completed either way). */
function execCached(r: Awaited<ReturnType<typeof build>>, name: string): boolean {
  const v = r.trace().find((e) => e.type === "vertex" && e.completed && String(e.name).includes(`> /${name};`));
  if (!v) throw new Error(`no completed step for /${name} in the trace`);
  return v.cached === true;
}

describe.skipIf(!run)("du", () => {
  test("lists each result with its size, type and description, and totals", async () => {
    await build(writer("big", 300_000));
    const rs = await records(h.root);
    const local = rs.find((r) => r.type === "source.local");
    const exec = rs.find((r) => r.description.includes("/big"));
    expect(local).toMatchObject({ description: "local://rootfs", shared: true, inUse: false, usageCount: 1 });
    expect(local?.size).toBeGreaterThan(1_900_000); // the busybox binary
    expect(exec).toMatchObject({ type: "regular", parent: local?.id, inputs: [local?.id] });
    expect(exec?.size).toBeGreaterThanOrEqual(300_000);
    expect(exec?.size).toBeLessThan(400_000); // its own bytes, not its parent's

    const table = await cli(["du", "--root", h.root]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+RECLAIMABLE\s+SIZE\s+LAST ACCESSED$/);
    expect(lines.find((l) => l.startsWith(exec?.id ?? "?"))).toMatch(/\strue\s+3\d\d\.\d\dkB\s+(less than a second|\d+ seconds?) ago$/);
    expect(lines.at(-2)).toMatch(/^Reclaimable:\s+2\.\d\dMB$/);
    expect(lines.at(-1)).toMatch(/^Total:\s+2\.\d\dMB$/);
  });

  test("--verbose prints every field; --filter selects", async () => {
    await build(writer("v", 10_000));
    const verbose = await cli(["du", "--root", h.root, "--verbose"]);
    expect(verbose.stdout).toMatch(/^Description:\s+local:\/\/rootfs$/m);
    expect(verbose.stdout).toMatch(/^Type:\s+source\.local$/m);
    expect(verbose.stdout).toMatch(/^Usage count:\s+1$/m);
    expect(verbose.stdout).toMatch(/^Shared:\s+true$/m);
    expect(verbose.stdout).toMatch(/^Parent:\s+result-/m);

    expect((await records(h.root, "type==source.local")).map((r) => r.description)).toEqual(["local://rootfs"]);
    expect((await records(h.root, "description~=/v\\.txt")).length).toBe(1);
    const [one] = await records(h.root, "type==regular");
    expect((await records(h.root, `id~=^${one?.id.slice(0, 15)}`)).map((r) => r.id)).toContain(one?.id ?? "?");
    const bad = await cli(["du", "--root", h.root, "--filter", "size>1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: parsing filter "size>1"/);
  });
});

describe.skipIf(!run)("prune", () => {
  test("--all empties the cache; the next build runs again and exports the right content", async () => {
    const out = h.temp("out");
    const def = writer("again", 50_000);
    await build(def, out);
    const before = await records(h.root);
    const pruned = await cli(["prune", "--root", h.root, "--all"]);
    expect(pruned.code).toBe(0);
    for (const r of before) expect(pruned.stdout).toContain(r.id);
    expect(pruned.stdout.trimEnd().split("\n").at(-1)).toMatch(/^Total:\s+2\.\d\dMB$/);
    expect(await records(h.root)).toEqual([]);
    expect((await cli(["du", "--root", h.root])).stdout).toMatch(/Total:\s+0B\n$/);

    const out2 = h.temp("out");
    const rebuilt = await build(def, out2);
    expect(execCached(rebuilt, "again")).toBe(false);
    expect(readFileSync(join(out2, "again.txt"), "utf8")).toBe("again\n");
    expect(readFileSync(join(out2, "again")).length).toBe(50_000);
    expect((await records(h.root)).length).toBe(before.length);
  });

  test("--keep-storage keeps the most recently used", async () => {
    for (const name of ["first", "second", "third"]) await build(writer(name, 100_000));
    const rs = await records(h.root);
    const size = (name: string) => rs.find((r) => r.description.includes(`/${name};`))?.size ?? 0;
    // Room for everything but the oldest result: only it goes.
    const keep = totalSize(rs) - size("first");
    const pruned = await cli(["prune", "--root", h.root, "--keep-storage", `${keep}B`]);
    expect(pruned.code).toBe(0);
    const left = await records(h.root);
    expect(left.map((r) => r.description).sort()).toEqual(rs.map((r) => r.description).filter((d) => !d.includes("/first;")).sort());
    expect(totalSize(left)).toBeLessThanOrEqual(keep);
    // The removed result is rebuilt; the kept ones are cache hits.
    expect(execCached(await build(writer("first", 100_000)), "first")).toBe(false);
    expect(execCached(await build(writer("third", 100_000)), "third")).toBe(true);
  });

  test("--keep-duration keeps what was used recently; a filter limits what goes", async () => {
    await build(writer("recent", 10_000));
    const kept = await cli(["prune", "--root", h.root, "--keep-duration", "1h"]);
    expect(kept.stdout).toBe("Total:        0B\n");
    const filtered = await cli(["prune", "--root", h.root, "--filter", "type==regular"]);
    expect(filtered.code).toBe(0);
    // The build's trace stays too: prunes short of a full --all keep the newest 50.
    expect((await records(h.root)).map((r) => r.type)).toEqual(["source.local", "trace"]);
  });

  test("cache mounts are records too, and prune removes them", async () => {
    const def = h.base().run({ ...sh("head -c 64000 /dev/urandom > /cache/blob; echo ok > /ok"), mounts: [{ dest: "/cache", source: scratch(), cache: { id: "du-cache" } }] }).root();
    const r = await h.build(def);
    expect(r.code).toBe(0);
    const [cm] = await records(h.root, "type==exec.cachemount");
    expect(cm?.size).toBeGreaterThanOrEqual(64_000);
    expect((await cli(["prune", "--root", h.root, "--filter", "type==exec.cachemount"])).stdout).toContain(cm?.id ?? "?");
    expect(await records(h.root, "type==exec.cachemount")).toEqual([]);
  });
});
