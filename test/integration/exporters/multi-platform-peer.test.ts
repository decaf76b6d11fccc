// Multi-platform builds (`--opt platform=linux/amd64,linux/arm64`), against buildkitd v0.11.6 from
// ../shared/peers: the Dockerfile frontend makes one result per platform, and each exporter
// writes them as BuildKit does. An image index (oci archive, pushed image) has the same digest on
// BuildKit, daemonless here and on our daemon driven by the peer's buildctl (uncompressed layers
// and SOURCE_DATE_EPOCH: gzip streams differ between Go and us, their content does not); local
// and tar outputs put each platform under DIR/linux_amd64 …; docker archives refuse, as BuildKit.
// FROM scratch with a COPY: nothing runs, so no foreign-architecture binary is needed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { startRegistry, type TestRegistry } from "../../fixtures/registry.ts";
import { makeBusyboxImage, pushImage } from "../../fixtures/images.ts";
import { BuildHarness } from "../build/harness.ts";
import { buildkitdAvailable, PeerDaemon, startPeerAndServe, type PeerAndServe, type TestDaemon } from "../client/daemons.ts";
import { BUILDCTL, peerSteps } from "../cache-remote/peer-dockerfile.ts";
import { copyProject } from "./helpers.ts";
import { cachedSteps, onState, ranSteps } from "../cache-remote/helpers.ts";

const run = requireIntegration("multi-platform builds against BuildKit", { runc: true, busybox: true, tools: ["/usr/bin/docker-registry"] }) && buildkitdAvailable("multi-platform builds against BuildKit");

const EPOCH = 1700000000;
const OPTS = ["--opt", "platform=linux/amd64,linux/arm64", "--opt", `build-arg:SOURCE_DATE_EPOCH=${EPOCH}`];
let h: BuildHarness;
let peer: PeerDaemon;
let serve: TestDaemon;
let daemons: PeerAndServe | undefined;
let registry: TestRegistry;
let frontend: string[];

beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  frontend = copyProject((n) => h.temp(n), "FROM scratch\nCOPY a.txt /a.txt\nLABEL org.example.kind=test\n", OPTS);
  registry = await startRegistry();
  daemons = await startPeerAndServe(h.temp("config"), registry.host);
  ({ peer, serve } = daemons);
}, 120_000);
afterAll(async () => {
  await daemons?.stop();
  await registry?.stop();
  h?.cleanup();
});

interface Built {
  readonly code: number;
  readonly error: string;
  readonly metadata: Record<string, unknown>;
  readonly dest: string;
}

/** One build of the project by each of BuildKit, our daemonless build and our daemon; dest per build. */
async function everyone(output: (dest: string) => string): Promise<{ peer: Built; ours: Built; serve: Built }> {
  const viaBuildctl = (addr: string): Built => {
    const out = h.temp("out");
    const dest = join(out, "dest");
    const r = Bun.spawnSync([BUILDCTL, "--addr", addr, "build", "--progress", "plain", "--metadata-file", join(out, "md.json"), "--output", output(dest), ...frontend], { timeout: 120_000 });
    const error = r.stderr.toString().trim().split("\n").pop() ?? "";
    return { code: r.exitCode ?? -1, error, metadata: r.exitCode === 0 ? (JSON.parse(readFileSync(join(out, "md.json"), "utf8")) as Record<string, unknown>) : {}, dest };
  };
  const out = h.temp("out");
  const dest = join(out, "dest");
  const state = join(h.temp("state"), "s");
  // A loopback registry is plain HTTP for our client without configuration.
  const r = await Object.create(h, { root: { value: state } }).build(new Uint8Array(), ["--metadata-file", join(out, "md.json"), "--output", output(dest), ...frontend]);
  const ours: Built = { code: r.code, error: r.stderr.trim().split("\n").pop() ?? "", metadata: r.code === 0 ? (JSON.parse(readFileSync(join(out, "md.json"), "utf8")) as Record<string, unknown>) : {}, dest };
  return { peer: viaBuildctl(peer.addr), ours, serve: viaBuildctl(serve.addr) };
}

const ok = (b: Built) => {
  if (b.code !== 0) console.log(b.error);
  expect(b.code).toBe(0);
};

/** Every entry under dir: path, type and mode, size, and for the platform directories their mtime. */
function tree(dir: string, prefix = ""): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const st = statSync(join(dir, name));
    const line = `${prefix}${name} ${(st.mode & 0o170777).toString(8)} ${st.isDirectory() ? "" : st.size}${prefix === "" ? ` ${Math.floor(st.mtimeMs / 1000)}` : ""}`;
    return st.isDirectory() ? [line, ...tree(join(dir, name), `${prefix}${name}/`)] : [line];
  });
}

describe.skipIf(!run)("multi-platform builds, as BuildKit v0.11.6 makes them", () => {
  test("oci archive: the same index digest, a manifest per platform, build information per platform", async () => {
    const b = await everyone((dest) => `type=oci,dest=${dest},compression=uncompressed`);
    [b.peer, b.ours, b.serve].forEach(ok);
    const digest = b.peer.metadata["containerimage.digest"];
    expect(b.ours.metadata["containerimage.digest"]).toBe(digest);
    expect(b.serve.metadata["containerimage.digest"]).toBe(digest);
    const descriptor = b.peer.metadata["containerimage.descriptor"] as { mediaType: string };
    expect(descriptor.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(b.ours.metadata["containerimage.descriptor"]).toEqual(descriptor);
    for (const key of ["containerimage.buildinfo/linux/amd64", "containerimage.buildinfo/linux/arm64"]) {
      expect(b.peer.metadata[key]).toBeDefined();
      expect(b.ours.metadata[key]).toEqual(b.peer.metadata[key]);
      expect(b.serve.metadata[key]).toEqual(b.peer.metadata[key]);
    }
  }, 180_000);

  test("local output: a directory per platform, dated by SOURCE_DATE_EPOCH, the same on all three", async () => {
    const b = await everyone((dest) => `type=local,dest=${dest}`);
    [b.peer, b.ours, b.serve].forEach(ok);
    const theirs = tree(b.peer.dest);
    expect(theirs).toEqual([`linux_amd64 40755  ${EPOCH}`, "linux_amd64/a.txt 100644 6", `linux_arm64 40755  ${EPOCH}`, "linux_arm64/a.txt 100644 6"]);
    expect(tree(b.ours.dest)).toEqual(theirs);
    expect(tree(b.serve.dest)).toEqual(theirs);
  }, 180_000);

  test("tar output: each platform's files under its directory", async () => {
    const b = await everyone((dest) => `type=tar,dest=${dest}`);
    [b.peer, b.ours, b.serve].forEach(ok);
    const list = (file: string) => Bun.spawnSync(["tar", "-tvf", file, "--full-time"]).stdout.toString().trim().split("\n").map((l) => l.replace(/\s+/g, " "));
    const theirs = list(b.peer.dest);
    expect(theirs.map((l) => l.split(" ").pop())).toEqual(["linux_amd64/", "linux_amd64/a.txt", "linux_arm64/", "linux_arm64/a.txt"]);
    expect(list(b.ours.dest)).toEqual(theirs);
    expect(list(b.serve.dest)).toEqual(theirs);
  }, 180_000);

  test("pushed image: the same index in the registry", async () => {
    const b = await everyone((dest) => `type=image,name=${registry.host}/multi/${dest.split("/").at(-2)!.toLowerCase().replace(/[^a-z0-9]/g, "")}:v1,push=true,compression=uncompressed`);
    [b.peer, b.ours, b.serve].forEach(ok);
    const digest = b.peer.metadata["containerimage.digest"] as string;
    expect(b.ours.metadata["containerimage.digest"]).toBe(digest);
    expect(b.serve.metadata["containerimage.digest"]).toBe(digest);
    for (const built of [b.peer, b.ours, b.serve]) {
      const name = (built.metadata["image.name"] as string).split("/").slice(1).join("/");
      const [repo, tag] = name.split(":") as [string, string];
      const res = await fetch(`http://${registry.host}/v2/${repo}/manifests/${tag}`, { headers: { Accept: "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json" } });
      expect(res.headers.get("docker-content-digest")).toBe(digest);
      const index = (await res.json()) as { manifests: { digest: string; platform: { architecture: string } }[] };
      expect(index.manifests.map((m) => m.platform.architecture)).toEqual(["amd64", "arm64"]);
      for (const m of index.manifests) expect((await fetch(`http://${registry.host}/v2/${repo}/manifests/${m.digest}`, { method: "HEAD", headers: { Accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" } })).status).toBe(200);
    }
  }, 180_000);

  test("cache: one export holds every platform's steps; BuildKit's imports here and ours there with every step CACHED", async () => {
    const STEPS = ["[linux/amd64 1/1] COPY a.txt /a.txt", "[linux/arm64 1/1] COPY a.txt /a.txt"];
    const theirs = join(h.temp("cache"), "peer");
    const p = Bun.spawnSync([BUILDCTL, "--addr", peer.addr, "build", "--progress", "plain", "--export-cache", `type=local,dest=${theirs},mode=max`, ...frontend], { timeout: 120_000 });
    expect(p.exitCode).toBe(0);
    const imported = await onState(h, join(h.temp("state"), "s")).build(new Uint8Array(), ["--import-cache", `type=local,src=${theirs}`, ...frontend]);
    expect(imported.code).toBe(0);
    expect(ranSteps(imported).filter((n) => STEPS.includes(n))).toEqual([]);
    expect(cachedSteps(imported).filter((n) => STEPS.includes(n)).sort()).toEqual(STEPS);
    const ours = join(h.temp("cache"), "ours");
    const exported = await onState(h, join(h.temp("state"), "s")).build(new Uint8Array(), ["--export-cache", `type=local,dest=${ours},mode=max`, ...frontend]);
    expect(exported.code).toBe(0);
    const fresh = new PeerDaemon();
    await fresh.start();
    try {
      const r = Bun.spawnSync([BUILDCTL, "--addr", fresh.addr, "build", "--progress", "plain", "--import-cache", `type=local,src=${ours}`, ...frontend], { timeout: 120_000 });
      expect(r.exitCode).toBe(0);
      // BuildKit merges the two COPY steps once their keys meet in the imported cache, and shows one of them.
      const steps = peerSteps(r.stderr.toString(), /^\[linux\/(amd64|arm64) 1\/1\] /);
      expect(steps.ran).toEqual([]);
      expect(steps.cached.length).toBeGreaterThan(0);
      expect(steps.cached.every((n) => STEPS.includes(n))).toBe(true);
    } finally {
      await fresh.cleanup();
    }
  }, 180_000);

  test("a multi-arch base image: each platform builds on its own, the same index as BuildKit's", async () => {
    const layout = await makeBusyboxImage({ dir: h.temp("base"), platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }] });
    await pushImage(layout.layoutDir, `${registry.host}/test/multi:latest`);
    const saved = frontend;
    frontend = copyProject((n) => h.temp(n), `FROM ${registry.host}/test/multi:latest\nCOPY a.txt /a.txt\n`, OPTS);
    try {
      const b = await everyone((dest) => `type=oci,dest=${dest},compression=uncompressed`);
      [b.peer, b.ours, b.serve].forEach(ok);
      const digest = b.peer.metadata["containerimage.digest"];
      expect(b.ours.metadata["containerimage.digest"]).toBe(digest);
      expect(b.serve.metadata["containerimage.digest"]).toBe(digest);
      // Each platform's build information pins the base it was built on: the same index.
      const info = b.peer.metadata["containerimage.buildinfo/linux/arm64"] as { sources: { ref: string; pin: string }[] };
      expect(info.sources.map((s) => s.ref)).toEqual([`${registry.host}/test/multi:latest`]);
      expect(b.ours.metadata["containerimage.buildinfo/linux/arm64"]).toEqual(info);
      expect(b.ours.metadata["containerimage.buildinfo/linux/amd64"]).toEqual(b.peer.metadata["containerimage.buildinfo/linux/amd64"]);
    } finally {
      frontend = saved;
    }
  }, 180_000);

  test("docker archive: refused, with BuildKit's message", async () => {
    const b = await everyone((dest) => `type=docker,dest=${dest}`);
    for (const built of [b.peer, b.ours, b.serve]) {
      expect(built.code).not.toBe(0);
      expect(built.error).toContain("docker exporter does not currently support exporting manifest lists");
    }
  }, 180_000);
});
