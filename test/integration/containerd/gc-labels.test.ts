// An image exported on the containerd worker carries containerd's GC labels: with every lease of
// ours gone, containerd's collector keeps what the named image refers to (manifest, config,
// layers, the result's snapshot), `ctr images check` calls it complete, and removing the image
// lets the collector take all of it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BuildHarness } from "../build/harness.ts";
import { sh } from "../cache/cli.ts";
import { ContainerdHarness, NAMESPACE, shouldRun } from "./harness.ts";

const run = shouldRun("containerd GC labels");
const IMAGE = "example.test/gc-labels:v1";

interface ContentRow {
  readonly digest: string;
  readonly labels: Record<string, string>;
}

describe.if(run)("containerd GC labels on exported images", () => {
  const cd = new ContainerdHarness();
  let h: BuildHarness;
  const ctr = (args: string[]) => cd.containerd.ctr(args);
  /** `ctr content ls`: DIGEST SIZE AGE LABELS (k=v,k=v or "-"). */
  const content = (): ContentRow[] =>
    ctr(["content", "ls"])
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => {
        const fields = line.split(/\s+/);
        const digest = fields[0] ?? "";
        const labels = fields.at(-1) ?? "-";
        return { digest, labels: labels === "-" ? {} : Object.fromEntries(labels.split(",").map((kv) => kv.split("=") as [string, string])) };
      });
  const snapshots = () => ctr(["snapshots", "ls"]).trim().split("\n").slice(1).map((l) => l.split(/\s+/)[0] ?? "");

  beforeAll(async () => {
    await cd.start();
    h = new BuildHarness();
  }, 60_000);
  afterAll(async () => {
    await h?.cleanup();
    await cd.stop();
  });

  test("manifest, layers and config are labelled; the image outlives our leases; removing it frees everything", async () => {
    const st = h.base().run(sh("echo labelled > /marker")).root();
    const b = await h.build(st, ["--worker", "containerd", "--containerd-address", cd.containerd.address, "--containerd-namespace", NAMESPACE, "--output", `type=image,name=${IMAGE}`]);
    expect(b.code).toBe(0);
    const manifestDigest = ctr(["images", "ls"]).split("\n").find((l) => l.startsWith(IMAGE))?.split(/\s+/)[2] ?? "";
    expect(manifestDigest).toMatch(/^sha256:/);
    const rows = content();
    const manifest = rows.find((r) => r.digest === manifestDigest);
    const refs = Object.entries(manifest?.labels ?? {}).filter(([k]) => k.startsWith("containerd.io/gc.ref.content."));
    expect(refs.length).toBe(3); // config and two layers (the rootfs, the step)
    const config = rows.find((r) => r.digest === manifest?.labels["containerd.io/gc.ref.content.0"]);
    const snapshot = config?.labels["containerd.io/gc.ref.snapshot.overlayfs"] ?? "";
    expect(snapshots()).toContain(snapshot);
    for (const i of [1, 2]) {
      const layer = rows.find((r) => r.digest === manifest?.labels[`containerd.io/gc.ref.content.${i}`]);
      expect(layer?.labels["containerd.io/uncompressed"]).toMatch(/^sha256:/);
    }

    // Our leases deleted (containerd collects synchronously): the image keeps its graph.
    await cd.dropLeases();
    expect(ctr(["images", "check"])).toMatch(new RegExp(`^${IMAGE.replace(/[.:/]/g, "\\$&")}\\s.*complete \\(3/3\\)`, "m"));
    const kept = new Set(content().map((r) => r.digest));
    for (const [, digest] of refs) expect(kept.has(digest)).toBe(true);
    expect(snapshots()).toContain(snapshot);

    ctr(["images", "rm", "--sync", IMAGE]);
    expect(content()).toEqual([]);
    expect(snapshots()).toEqual([]);
  }, 120_000);
});
