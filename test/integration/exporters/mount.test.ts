// The image exporter in process on the standalone worker (snapshots made directly, no runc):
// blobs pushed once are mounted, not uploaded, into a sibling repository by a later process
// (the content index remembers where they are), and empty diffs are dropped from the layers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStandaloneWorker } from "../../../src/backends/standalone/index.ts";
import type { StandaloneWorker } from "../../../src/backends/standalone/index.ts";
import type { BuildResult } from "../../../src/core/exporters/exporter.ts";
import { createImageExporter } from "../../../src/core/exporters/image/index.ts";
import { createRegistryClient } from "../../../src/core/registry/index.ts";
import { buildSnapshot, withView } from "../../../src/core/worker/snapshots.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { recordingFetch, REGISTRY_BIN, startRegistry } from "../../fixtures/registry.ts";
import type { TestRegistry } from "../../fixtures/registry.ts";
import { skopeoJson } from "./helpers.ts";

const enabled = requireIntegration("image exporter mount tests", { tools: [REGISTRY_BIN, "skopeo"] });
type Call = { method: string; url: string; status?: number };

describe.skipIf(!enabled)("image exporter on the standalone worker", () => {
  let dir: string;
  let registry: TestRegistry;
  let worker: StandaloneWorker;
  let result: BuildResult;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "bk-export-mount-"));
    registry = await startRegistry();
    worker = await createStandaloneWorker({ root: join(dir, "state") });
    const base = await buildSnapshot(worker, undefined, async (d) => writeFileSync(join(d, "base.txt"), "base\n"));
    const same = await buildSnapshot(worker, base, async () => {});
    const top = await buildSnapshot(worker, same, async (d) => writeFileSync(join(d, "top.txt"), "top\n"));
    const names: Record<string, string> = { [base]: "base step", [same]: "no-op step", [top]: "top step" };
    result = { withMounted: (fn) => withView(worker, top, fn), worker, snapshot: top, describe: (s) => names[s] };
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await registry?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh exporter and registry client: nothing known in memory, only the content index. */
  function exporter(calls: Call[]) {
    const client = createRegistryClient({ fetch: recordingFetch(calls), dockerConfigDir: join(dir, "no-docker-config") });
    return createImageExporter({ registry: async () => client });
  }

  test("a later push to a sibling repository mounts every blob instead of uploading it", async () => {
    const first: Call[] = [];
    const a = await exporter(first).resolve({ name: `${registry.host}/team/a:1`, push: "true", "source-date-epoch": "0" }).export(result, AbortSignal.timeout(30_000));
    expect(first.filter((c) => c.method === "PUT" && c.url.includes("/blobs/uploads/")).length).toBe(3); // two layers and the config

    const second: Call[] = [];
    const b = await exporter(second).resolve({ name: `${registry.host}/team/b:1`, push: "true", "source-date-epoch": "0" }).export(result, AbortSignal.timeout(30_000));
    expect(b["containerimage.digest"]).toBe(a["containerimage.digest"]!);
    const mounts = second.filter((c) => c.method === "POST" && c.url.includes("mount=") && c.url.includes(`from=${encodeURIComponent("team/a")}`));
    expect(mounts.map((c) => c.status)).toEqual([201, 201, 201]);
    expect(second.some((c) => c.method === "PUT" && c.url.includes("/blobs/uploads/"))).toBe(false);
    expect(skopeoJson("inspect", "--tls-verify=false", `docker://${registry.host}/team/b:1`).Digest).toBe(b["containerimage.digest"]!);
  });

  test("an empty diff is no layer, and its history entry says empty_layer", async () => {
    const calls: Call[] = [];
    const r = await exporter(calls).resolve({ name: `${registry.host}/team/c:1`, push: "true", "source-date-epoch": "0" }).export(result, AbortSignal.timeout(30_000));
    const inspected = skopeoJson<{ Layers: string[] }>("inspect", "--tls-verify=false", `docker://${registry.host}/team/c:1`);
    expect(inspected.Layers.length).toBe(2);
    const config = skopeoJson<{ created: string; history: { created_by: string; empty_layer?: boolean }[] }>("inspect", "--config", "--tls-verify=false", `docker://${registry.host}/team/c:1`);
    expect(config.created).toBe("1970-01-01T00:00:00Z");
    expect(config.history.map((e) => [e.created_by, e.empty_layer ?? false])).toEqual([
      ["base step", false],
      ["no-op step", true],
      ["top step", false],
    ]);
    expect(r["image.name"]).toBe(`${registry.host}/team/c:1`);
  });
});
