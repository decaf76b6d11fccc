// Inline cache (`--export-cache type=inline`, imported with `--import-cache type=registry,ref=IMAGE`)
// interchanged with BuildKit v0.11.6 (../shared/peers): BuildKit pushes an image whose config
// carries moby.buildkit.cache.v0 and our engine builds the same Dockerfile from it with every
// step of the final stage CACHED, and the reverse. Also: inline with a non-image output is
// ignored with a warning, and an image without an inline cache imports nothing (as BuildKit).
// A registry on 127.0.0.1; each peer direction gets a fresh buildkitd, stopped at the end.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import type { TestRegistry } from "../../fixtures/registry.ts";
import { BuildHarness, type BuildRun } from "../build/harness.ts";
import { buildkitdAvailable } from "../client/daemons.ts";
import { withPeer } from "./peer-daemon.ts";
import { dockerfileProject, frontendArgs, peerBuild, peerSteps, type DockerfileProject } from "./peer-dockerfile.ts";
import { cachedSteps, onState, ranSteps, warnings } from "./helpers.ts";

const KEY = "moby.buildkit.cache.v0";
const run = requireIntegration("inline cache interchange with BuildKit", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] }) && buildkitdAvailable("inline cache interchange with BuildKit");

let h: BuildHarness;
let registry: TestRegistry;
let project: DockerfileProject;

/** The final image's own steps: an inline cache (mode=min) has results for these. */
const STEPS = ["[2/4] RUN echo one > /one", "[3/4] COPY app.txt /app.txt", "[4/4] RUN cat /one /app.txt > /two"];
const dockerfile = (reg: string) => `FROM ${reg}/test/busybox:latest
RUN echo one > /one
COPY app.txt /app.txt
RUN cat /one /app.txt > /two
`;

beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  project = await dockerfileProject(h, dockerfile, (dir) => writeFileSync(join(dir, "app.txt"), "hello\n"));
  registry = project.registry;
}, 120_000);
afterAll(async () => {
  await registry?.stop();
  h?.cleanup();
});

async function oursBuild(...extra: string[]): Promise<BuildRun> {
  const r = await onState(h, join(h.temp("state"), "s")).build(new Uint8Array(), frontendArgs(project, ...extra));
  if (r.code !== 0) console.log(r.stderr);
  expect(r.code).toBe(0);
  return r;
}

/** The image config at host/repo:tag, read over the registry API. */
async function imageConfig(ref: string): Promise<Record<string, unknown>> {
  const [host, ...rest] = ref.split("/");
  const [repo, tag] = rest.join("/").split(":") as [string, string];
  const accept = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
  const manifest = (await (await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { Accept: accept } })).json()) as { config: { digest: string } };
  return (await (await fetch(`http://${host}/v2/${repo}/blobs/${manifest.config.digest}`)).json()) as Record<string, unknown>;
}

/** The records of an image's inline cache, decoded (a base64 []byte of a JSON array). */
function inlineRecords(config: Record<string, unknown>): { digest: string; layers?: { layer: number }[]; chains?: { layers: number[] }[] }[] {
  const value = config[KEY];
  if (typeof value !== "string") throw new Error(`no ${KEY} in the image config`);
  return JSON.parse(Buffer.from(value, "base64").toString("utf8")) as ReturnType<typeof inlineRecords>;
}

describe.skipIf(!run)("inline cache interchange with BuildKit v0.11.6 (Dockerfile frontend)", () => {
  test("BuildKit pushes an image with an inline cache; we import it from the image with every step CACHED", async () => {
    const ref = `${registry.host}/inline/from-buildkit:latest`;
    await withPeer(registry.host, (peer) => {
      const r = peerBuild(peer, project, ["--output", `type=image,name=${ref},push=true`, "--export-cache", "type=inline"]);
      if (r.code !== 0) console.log(r.progress);
      expect(r.code).toBe(0);
    });
    expect(inlineRecords(await imageConfig(ref)).some((r) => (r.layers ?? []).length > 0)).toBe(true);
    const out = h.temp("out");
    const r = await oursBuild("--import-cache", `type=registry,ref=${ref}`, "--output", `type=local,dest=${out}`);
    expect(ranSteps(r).filter((n) => !n.startsWith("[internal]"))).toEqual([]);
    expect(cachedSteps(r).filter((n) => STEPS.includes(n)).sort()).toEqual([...STEPS].sort());
    expect(readFileSync(join(out, "two"), "utf8")).toBe("one\nhello\n");
  });

  test("we push an image with an inline cache; BuildKit imports it from the image with every step CACHED", async () => {
    const ref = `${registry.host}/inline/from-ours:latest`;
    const r = await oursBuild("--output", `type=image,name=${ref},push=true`, "--export-cache", "type=inline");
    expect(ranSteps(r).filter((n) => STEPS.includes(n)).sort()).toEqual([...STEPS].sort());
    const config = await imageConfig(ref);
    const layers = (config.rootfs as { diff_ids: string[] }).diff_ids.length;
    const records = inlineRecords(config);
    // Results index the image's own layers: the final step's is the top one.
    const tops = records.flatMap((rec) => (rec.layers ?? []).map((l) => l.layer));
    expect(Math.max(...tops)).toBe(layers - 1);
    expect(tops.every((i) => i >= 0 && i < layers)).toBe(true);
    await withPeer(registry.host, (peer) => {
      const p = peerBuild(peer, project, ["--import-cache", `type=registry,ref=${ref}`]);
      if (p.code !== 0) console.log(p.progress);
      expect(p.code).toBe(0);
      expect(peerSteps(p.progress, /^\[\d\/\d\] /)).toEqual({ cached: [...STEPS].sort(), ran: [] });
    });
  });

  test("our inline cache is imported by our engine too, into an empty state", async () => {
    const ref = `${registry.host}/inline/ours-again:latest`;
    await oursBuild("--output", `type=image,name=${ref},push=true`, "--export-cache", "type=inline");
    const r = await oursBuild("--import-cache", `type=registry,ref=${ref}`);
    expect(ranSteps(r).filter((n) => !n.startsWith("[internal]"))).toEqual([]);
    expect(cachedSteps(r).filter((n) => STEPS.includes(n)).sort()).toEqual([...STEPS].sort());
  });

  test("inline with a non-image output is ignored, with a warning (BuildKit ignores it silently)", async () => {
    const out = h.temp("out");
    const r = await oursBuild("--export-cache", "type=inline", "--output", `type=local,dest=${out}`);
    expect(readFileSync(join(out, "two"), "utf8")).toBe("one\nhello\n");
    expect(warnings(r)).toEqual(["warning: type=inline: no image, oci or docker output to embed the cache in; nothing exported\n"]);
  });

  test("importing from an image without an inline cache imports nothing and the build goes on (as BuildKit)", async () => {
    const r = await oursBuild("--import-cache", `type=registry,ref=${registry.host}/test/busybox:latest`);
    expect(ranSteps(r).filter((n) => STEPS.includes(n)).sort()).toEqual([...STEPS].sort());
    expect(warnings(r)).toEqual([]);
    const logs = r.trace().filter((e) => e.type === "log").map((e) => String(e.text ?? ""));
    expect(logs.some((t) => t.includes("no inline cache in the image; nothing imported"))).toBe(true);
  });
});
