// `buildctl build --export-cache type=local,dest=DIR` and `--import-cache type=local,src=DIR`
// against `buildkit serve`: buildctl serves DIR as a content store over its session, the daemon
// writes the cache's blobs into it and buildctl tags the cache in DIR/index.json; a daemon with
// fresh state imports it with every step CACHED, and so does BuildKit's own buildkitd.
// Imports go through the Dockerfile frontend: buildctl v0.11.6 imports nothing for a raw
// definition (see ../shared/peers/buildkit-v0.11.6/README.md).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { buildkitdAvailable } from "../client/daemons.ts";
import { withPeer } from "../cache-remote/peer-daemon.ts";
import { peerSteps } from "../cache-remote/peer-dockerfile.ts";
import { BUILDCTL, buildctlAvailable, ServeHarness } from "./daemon.ts";
import { localCacheProject, type LocalCacheProject } from "./local-cache-project.ts";

const run =
  requireIntegration("local cache through buildkit serve", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] }) &&
  buildctlAvailable("local cache through buildkit serve");

const RUN_STEP = /\[\d+\/\d+\] RUN /;

describe.if(run)("buildctl --export-cache/--import-cache type=local against buildkit serve", () => {
  const first = new ServeHarness();
  const fresh = new ServeHarness();
  let project: LocalCacheProject;

  beforeAll(async () => {
    project = await localCacheProject(first, "local-cache");
    await first.start();
  }, 120_000);
  afterAll(async () => {
    await first.cleanup();
    await fresh.cleanup();
    await project?.registry.stop();
  });

  const args = (...extra: string[]) => ["build", ...project.frontendArgs(...extra)];

  test("export: the daemon writes the blobs through the session and buildctl tags the index in index.json", async () => {
    const r = await first.buildctl(args("--export-cache", `type=local,dest=${project.cache},mode=max`), { timeoutMs: 120_000 });
    expect(r.stderr).not.toContain("ERROR");
    expect(r.code).toBe(0);
    project.expectWhole("latest");
  }, 150_000);

  test("import: a daemon with fresh state finds every step CACHED", async () => {
    expect(existsSync(join(project.cache, "index.json"))).toBe(true);
    await fresh.start();
    const r = await fresh.buildctl(args("--import-cache", `type=local,src=${project.cache}`), { timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("importing cache manifest from");
    const steps = peerSteps(r.stderr, RUN_STEP);
    expect(steps.ran).toEqual([]);
    expect(steps.cached).toHaveLength(2);
  }, 150_000);

  test.if(buildkitdAvailable("local cache through buildkit serve, imported by buildkitd"))("BuildKit's buildkitd imports the directory our daemon wrote with every step CACHED", async () => {
    await withPeer(project.registry.host, async (peer) => {
      const p = Bun.spawnSync([BUILDCTL, "--addr", peer.addr, ...args("--import-cache", `type=local,src=${project.cache}`)], { timeout: 120_000 });
      const progress = p.stderr.toString();
      expect(p.exitCode).toBe(0);
      const steps = peerSteps(progress, RUN_STEP);
      expect(steps.ran).toEqual([]);
      expect(steps.cached).toHaveLength(2);
    });
  }, 180_000);
});
