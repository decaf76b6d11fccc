// `du` accounts for the whole state and `prune` agrees with it: content blobs, images kept by
// name and build traces are records of their own types; what prune reports reclaimed is what
// du's total drops by; `prune --all` removes the traces.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "../build/harness.ts";
import { cli, records, sh, totalSize } from "./cli.ts";

const run = requireIntegration("du totals integration tests", { runc: true, busybox: true });
let h: BuildHarness;
beforeAll(() => {
  if (run) h = new BuildHarness();
});
afterAll(() => h?.cleanup());

const summary = (stdout: string, label: string) => stdout.split("\n").find((l) => l.startsWith(`${label}:`));

describe.skipIf(!run)("du and prune totals", () => {
  test("blobs, pinned images and traces are records; prune --all's total is what du's total drops by", async () => {
    const def = h.base().run(sh("head -c 200000 /dev/urandom > /r")).root();
    const built = await h.build(def, ["--output", "type=image,name=example.test/pinned:1,push=false"]);
    expect(built.code).toBe(0);
    const before = await records(h.root);
    const types = new Set(before.map((r) => r.type));
    for (const t of ["image", "trace", "regular"] as const) expect(types).toContain(t);
    const image = before.find((r) => r.type === "image");
    expect(image?.id).toBe("example.test/pinned:1");
    expect(image?.size).toBeGreaterThan(100_000); // its layer, config and manifest

    const verbose = await cli(["du", "--root", h.root, "--verbose"]);
    expect(verbose.stdout).toMatch(/^Type:\s+trace$/m);
    expect(verbose.stdout).toMatch(/^Type:\s+image$/m);

    const pruned = await cli(["prune", "--all", "--root", h.root]);
    expect(pruned.code).toBe(0);
    const after = await records(h.root);
    expect(after.filter((r) => r.type === "trace")).toEqual([]);
    expect(readdirSync(join(h.root, "traces"))).toEqual([]);
    expect(after.find((r) => r.type === "image")?.id).toBe("example.test/pinned:1");
    // Both print with the same rounding: compare the bytes du saw go with what prune reported.
    const gone = totalSize(before) - totalSize(after);
    const du = await cli(["du", "--root", h.root]);
    expect(summary(du.stdout, "Total")).toBeDefined();
    const reported = /^Total:\s+(.*)$/m.exec(pruned.stdout.trimEnd().split("\n").at(-1) ?? "")?.[1];
    const { formatSize } = await import("../../../src/core/cache/units.ts");
    expect(reported).toBe(formatSize(gone));
  });

  test("du --root on a missing directory creates nothing", async () => {
    const missing = join(h.dir, "no-state-here");
    const r = await cli(["du", "--root", missing]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Total:\s+0B\n$/);
    expect(existsSync(missing)).toBe(false);
  });
});
