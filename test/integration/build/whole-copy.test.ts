// A COPY of a whole single-layer snapshot onto scratch ("/" to "/", nothing overridden) that
// would reproduce it exactly takes that snapshot itself as its result: no copy is made. The
// image it exports is the one a real copy gives; later steps never change the shared snapshot;
// du counts it once; prune removes it with both its cache keys.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copy, local, mkfile, rm, scratch } from "../../../src/core/llb/index.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { cli, records } from "../cache/cli.ts";
import { memberJson } from "../exporters/helpers.ts";
import { BuildHarness } from "./harness.ts";

const run = requireIntegration("whole-copy integration tests", { runc: true, busybox: true });
let h: BuildHarness;
beforeAll(() => {
  if (run) h = new BuildHarness();
});
afterAll(() => h?.cleanup());

const sh = (script: string) => ({ args: ["sh", "-c", script] });

/** Snapshot directories holding /wc-data (the local source's own and any copy of it). */
function snapshotsWithData(): string[] {
  const dir = join(h.root, "snapshots");
  return readdirSync(dir).filter((id) => {
    try {
      return statSync(join(dir, id, "fs", "wc-data")).isFile();
    } catch {
      return false;
    }
  });
}

/** The layer digests and diff IDs of an OCI tarball's only image. */
function layersOf(tarball: string): { layers: string[]; diffIds: string[] } {
  const index = memberJson<{ manifests: { digest: string }[] }>(tarball, "index.json");
  const blob = (d: string) => `blobs/sha256/${d.replace(/^sha256:/, "")}`;
  const manifest = memberJson<{ layers: { digest: string }[]; config: { digest: string } }>(tarball, blob(index.manifests[0]!.digest));
  const config = memberJson<{ rootfs: { diff_ids: string[] } }>(tarball, blob(manifest.config.digest));
  return { layers: manifest.layers.map((l) => l.digest), diffIds: config.rootfs.diff_ids };
}

describe.skipIf(!run)("a whole-tree COPY onto scratch", () => {
  test("is the source snapshot: same image layers as a real copy, never changed by later steps, counted once", async () => {
    const ctx = h.temp("wc");
    writeFileSync(join(ctx, "wc-data"), "orig\n");
    chmodSync(join(ctx, "wc-data"), 0o644);
    mkdirSync(join(ctx, "sub"), { mode: 0o750 });
    writeFileSync(join(ctx, "sub/x"), "x\n");
    const locals = { locals: { wc: ctx } };
    const whole = scratch().file(copy(local("wc"), "/", "/"));
    const oci = h.temp("oci");

    const first = await h.build(whole, ["--output", `type=oci,dest=${join(oci, "whole.tar")}`], locals);
    expect(first.code).toBe(0);
    // One snapshot: the local source's, and the COPY's result is it.
    expect(snapshotsWithData().length).toBe(1);

    // A copy the shortcut does not apply to (an exclude that matches nothing) gives the same layers.
    const copied = scratch().file(copy(local("wc"), "/", "/", { excludePatterns: ["no-such-name"] }));
    const second = await h.build(copied, ["--output", `type=oci,dest=${join(oci, "copied.tar")}`], locals);
    expect(second.code).toBe(0);
    const made = snapshotsWithData();
    expect(made.length).toBe(2);
    const a = layersOf(join(oci, "whole.tar"));
    expect(a.layers.length).toBe(1);
    expect(a).toEqual(layersOf(join(oci, "copied.tar")));

    // du: the local source and the whole COPY share one record (the COPY's description, the
    // source's size); the real copy has its own, of the same size.
    const results = (await records(h.root)).filter((r) => r.type !== "trace" && r.type !== "content");
    expect(results.map((r) => r.description)).toEqual(["copy / /", "copy / /"]);
    expect(new Set(results.map((r) => r.id)).size).toBe(2);
    expect(results[0]!.size).toBe(results[1]!.size);

    // Later steps on the result: an exec writing through a mount of it, file actions on top.
    const out = h.temp("out");
    const steps = [
      h.base().run({ ...sh("echo exec >> /b/wc-data; chmod 600 /b/wc-data; rm /b/sub/x"), mounts: [{ dest: "/b", source: whole }] }).getMount("/b")!,
      whole.file(mkfile("/wc-data", 0o600, "mkfile\n")),
      whole.file(rm("/sub")),
      whole.file(copy(whole, "/wc-data", "/wc-data", { mode: 0o600, owner: { user: 1, group: 1 } })),
    ];
    for (const step of steps) {
      const r = await h.build(step, ["--output", `type=local,dest=${out}`], locals);
      if (r.code !== 0) console.log(r.stderr);
      expect(r.code).toBe(0);
    }
    const check = h.temp("check");
    const again = await h.build(whole, ["--output", `type=local,dest=${check}`], locals);
    expect(again.code).toBe(0);
    expect(readFileSync(join(check, "wc-data"), "utf8")).toBe("orig\n");
    expect(statSync(join(check, "wc-data")).mode & 0o7777).toBe(0o644);
    expect(readFileSync(join(check, "sub/x"), "utf8")).toBe("x\n");
    for (const id of made) {
      const fs = join(h.root, "snapshots", id, "fs");
      expect(readFileSync(join(fs, "wc-data"), "utf8")).toBe("orig\n");
      expect(statSync(join(fs, "wc-data")).mode & 0o7777).toBe(0o644);
      expect(readFileSync(join(fs, "sub/x"), "utf8")).toBe("x\n");
    }

    // prune --all removes the shared snapshot once, with both keys: a rebuild makes it again.
    const pruned = await cli(["prune", "--root", h.root, "--all"]);
    expect(pruned.code).toBe(0);
    expect(snapshotsWithData().length).toBe(0);
    const rebuilt = await h.build(whole, ["--output", `type=oci,dest=${join(oci, "rebuilt.tar")}`], locals);
    expect(rebuilt.code).toBe(0);
    expect(layersOf(join(oci, "rebuilt.tar"))).toEqual(a);
  }, 30_000);
});
