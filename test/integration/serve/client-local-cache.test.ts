// Our client's `build --addr --export-cache type=local,dest=DIR` and `--import-cache
// type=local,src=DIR[,tag=T]` against `buildkit serve`, as buildctl does them: the client serves
// DIR as a content store over its session, the daemon writes the cache's blobs into it and the
// client tags the cache in DIR/index.json; a daemon with fresh state imports it through our
// client with every step CACHED, and BuildKit's buildctl imports the same directory.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BUN, CLI } from "../../paths.ts";
import { withPeer } from "../cache-remote/peer-daemon.ts";
import { peerSteps } from "../cache-remote/peer-dockerfile.ts";
import { buildkitdAvailable } from "../client/daemons.ts";
import { buildctlAvailable, ServeHarness, type Run } from "./daemon.ts";
import { localCacheProject, type LocalCacheProject, type OciIndex } from "./local-cache-project.ts";

const run = requireIntegration("our client's local cache through buildkit serve", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] });
const RUN_STEP = /\[\d+\/\d+\] RUN /;
async function ours(addr: string, args: string[], timeoutMs = 120_000): Promise<Run> {
  const p = Bun.spawn([BUN, CLI, "build", "--addr", addr, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, BUILDKIT_HOST: "" } });
  const timer = setTimeout(() => p.kill(), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).arrayBuffer(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, stdout: Buffer.from(stdout), stderr };
}

describe.if(run)("buildkit build --addr --export-cache/--import-cache type=local against buildkit serve", () => {
  const first = new ServeHarness();
  const fresh = new ServeHarness();
  let project: LocalCacheProject;
  let cache = "";

  beforeAll(async () => {
    project = await localCacheProject(first, "client-local-cache");
    cache = project.cache;
    await first.start();
  }, 120_000);
  afterAll(async () => {
    await first.cleanup();
    await fresh.cleanup();
    await project?.registry.stop();
  });

  const args = (...extra: string[]) => project.frontendArgs(...extra);
  const tagged = (tag: string) => project.tagged(tag);

  test("export: the daemon writes the blobs into DIR through our session, our client tags index.json", async () => {
    const r = await ours(first.addr, args("--export-cache", `type=local,dest=${cache},mode=max,tag=v1`));
    expect(r.stderr).not.toContain("ERROR");
    expect(r.code).toBe(0);
    project.expectWhole("v1");
    // No half-written ingest is left behind.
    expect(existsSync(join(cache, "ingest"))).toBe(false);
    expect(readdirSync(cache).filter((n) => n.startsWith("."))).toEqual([]);
  }, 150_000);

  test("a second export under the default tag keeps the first tag", async () => {
    const r = await ours(first.addr, args("--export-cache", `type=local,dest=${cache},mode=max`));
    expect(r.code).toBe(0);
    expect(tagged("latest")).toHaveLength(1);
    expect(tagged("v1")).toHaveLength(1);
    // The second export's cache (its records' times differ) is whole beside the first.
    for (const tag of ["latest", "v1"]) project.expectWhole(tag);
  }, 150_000);

  test("import: a daemon with fresh state finds every step CACHED", async () => {
    await fresh.start();
    const r = await ours(fresh.addr, args("--import-cache", `type=local,src=${cache},tag=v1`));
    expect(r.code).toBe(0);
    const steps = peerSteps(r.stderr, RUN_STEP);
    expect(steps.ran).toEqual([]);
    expect(steps.cached).toHaveLength(2);
  }, 150_000);

  test.if(buildctlAvailable("our client's local cache, imported by buildctl"))("BuildKit's buildctl imports the directory our client wrote", async () => {
    const other = new ServeHarness();
    try {
      await other.start();
      const r = await other.buildctl(["build", ...args("--import-cache", `type=local,src=${cache}`)], { timeoutMs: 120_000 });
      expect(r.code).toBe(0);
      const steps = peerSteps(r.stderr, RUN_STEP);
      expect(steps.ran).toEqual([]);
      expect(steps.cached).toHaveLength(2);
    } finally {
      await other.cleanup();
    }
  }, 150_000);

  test.if(buildkitdAvailable("our client's local cache through buildkitd"))("through BuildKit's buildkitd: our client's session store takes its export and serves its import", async () => {
    const peerCache = join(first.temp("peer-cache"), "dir");
    await withPeer(project.registry.host, async (peer) => {
      const exported = await ours(peer.addr, args("--export-cache", `type=local,dest=${peerCache},mode=max`));
      expect(exported.stderr).not.toContain("ERROR");
      expect(exported.code).toBe(0);
      const index = JSON.parse(readFileSync(join(peerCache, "index.json"), "utf8")) as OciIndex;
      expect(index.manifests.filter((m) => m.annotations?.["org.opencontainers.image.ref.name"] === "latest")).toHaveLength(1);
    });
    await withPeer(project.registry.host, async (peer) => {
      const r = await ours(peer.addr, args("--import-cache", `type=local,src=${peerCache}`));
      expect(r.code).toBe(0);
      const steps = peerSteps(r.stderr, RUN_STEP);
      expect(steps.ran).toEqual([]);
      expect(steps.cached).toHaveLength(2);
    });
  }, 240_000);

  test("bad cases fail before the build with one line", async () => {
    const noDest = await ours(first.addr, args("--export-cache", "type=local"));
    expect(noDest.code).toBe(2);
    expect(noDest.stderr).toContain("--export-cache type=local requires dest=DIR");
    const noSrc = await ours(first.addr, args("--import-cache", "type=local"));
    expect(noSrc.code).toBe(2);
    expect(noSrc.stderr).toContain("--import-cache type=local requires src=DIR");
    const badTag = await ours(first.addr, args("--import-cache", `type=local,src=${cache},tag=nope`));
    expect(badTag.code).toBe(2);
    expect(badTag.stderr).toContain(`no cache manifest tagged "nope"`);
    for (const r of [noDest, noSrc, badTag]) expect(r.stderr.trim().split("\n").filter((l) => !l.startsWith("trace:"))).toHaveLength(1);
  }, 60_000);
});
