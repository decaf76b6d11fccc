// Cache interchange with BuildKit v0.11.6 for git and http sources: their cache keys must be
// BuildKit's own (the commit; the digest of the downloaded file's facts), else the steps on top
// of them can never match across the two. BuildKit exports the cache of an LLB definition (a
// git checkout and a downloaded file mounted into a step on a registry image) and we import it
// with that step CACHED; we export the cache of a Dockerfile with `ADD http://…` and BuildKit
// imports it with every step CACHED.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { git, http, image, LINUX_AMD64 } from "../../../src/core/llb/index.ts";
import { makeRepo, requireGit, startGitDaemon, type GitDaemon } from "../../fixtures/git.ts";
import { makeBusyboxImage, pushImage } from "../../fixtures/images.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { startRegistry, type TestRegistry } from "../../fixtures/registry.ts";
import { BuildHarness } from "../build/harness.ts";
import { buildkitdAvailable, type PeerDaemon } from "../client/daemons.ts";
import { withPeer } from "./peer-daemon.ts";
import { BUILDCTL } from "./peer-dockerfile.ts";
import { cachedSteps, onState, ranSteps } from "./helpers.ts";

const run =
  requireIntegration("git/http cache interchange with BuildKit", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] }) &&
  requireGit("git/http cache interchange with BuildKit") &&
  buildkitdAvailable("git/http cache interchange with BuildKit");

let h: BuildHarness;
let registry: TestRegistry;
let gitd: GitDaemon;
let files: ReturnType<typeof Bun.serve> | undefined;
const LAST_MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT";
const STEP = "cat /g/README /h/notes.txt > /result";

beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  registry = await startRegistry();
  const layout = await makeBusyboxImage({ dir: h.temp("image") });
  await pushImage(layout.layoutDir, `${registry.host}/test/busybox:latest`);
  const repos = h.temp("repos");
  makeRepo(join(repos, "repo.git"), { commits: [{ files: { README: "from git\n" } }] });
  gitd = await startGitDaemon(repos);
  // An ETag and a Last-Modified, as BuildKit's key takes the latter and revalidates with the former.
  files = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      const headers = { ETag: '"v1"', "Last-Modified": LAST_MODIFIED };
      if (req.headers.get("if-none-match")?.includes('"v1"')) return new Response(null, { status: 304, headers });
      return new Response("from http\n", { headers });
    },
  });
}, 120_000);
afterAll(async () => {
  files?.stop(true);
  await gitd?.stop();
  await registry?.stop();
  h?.cleanup();
});

const notesUrl = () => `http://127.0.0.1:${files?.port}/notes.txt`;

/** buildctl, spawned without blocking: the http server buildkitd downloads from runs in this process. */
async function peerBuild(peer: PeerDaemon, args: string[], stdin?: Uint8Array): Promise<string> {
  const p = Bun.spawn([BUILDCTL, "--addr", peer.addr, "build", "--progress", "plain", ...args], {
    stdin: stdin ? new Blob([stdin]) : "ignore",
    stdout: "ignore",
    stderr: "pipe",
    timeout: 100_000,
  });
  const [progress, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) console.log(progress);
  expect(code).toBe(0);
  return progress;
}

/** The record digests of a cache exported to a local directory (BuildKit's cacheconfig.v0). */
function recordDigests(dir: string): string[] {
  const blob = (digest: string) => JSON.parse(readFileSync(join(dir, "blobs", ...digest.split(":")), "utf8"));
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  const list = blob(index.manifests[0]!.digest) as { manifests: { mediaType: string; digest: string }[] };
  const config = list.manifests.find((m) => m.mediaType === "application/vnd.buildkit.cacheconfig.v0");
  return (blob(config!.digest) as { records: { digest: string }[] }).records.map((r) => r.digest).sort();
}

describe.skipIf(!run)("git and http sources: cache interchange with BuildKit v0.11.6", () => {
  test("BuildKit exports, we import: the step on top of git and http is CACHED; both export the same keys", async () => {
    const definition = image(`${registry.host}/test/busybox:latest`)
      .run({
        args: ["sh", "-c", STEP],
        mounts: [
          { dest: "/g", source: git(gitd.url("repo.git"), "main"), readonly: true },
          { dest: "/h", source: http(notesUrl()), readonly: true },
        ],
      })
      .root()
      .marshal({ platform: LINUX_AMD64 });
    const cache = join(h.temp("cache"), "dir");
    const theirMetadata = join(h.temp("meta"), "peer.json");
    await withPeer(registry.host, async (peer) => void (await peerBuild(peer, ["--export-cache", `type=local,dest=${cache},mode=max`, "--metadata-file", theirMetadata], definition)));
    const out = h.temp("out");
    const ourMetadata = join(h.temp("meta"), "ours.json");
    const r = await onState(h, join(h.temp("state"), "s")).build(definition, ["--import-cache", `type=local,src=${cache}`, "--output", `type=local,dest=${out}`, "--metadata-file", ourMetadata]);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    expect(ranSteps(r).filter((n) => n.includes(STEP))).toEqual([]);
    expect(cachedSteps(r).filter((n) => n.includes(STEP))).toHaveLength(1);
    expect(await Bun.file(join(out, "result")).text()).toBe("from git\nfrom http\n");
    // Build information: the image, the git remote with its ref and the URL, each with its pin, as BuildKit reports them.
    const buildInfo = (file: string) => (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>)["containerimage.buildinfo"];
    const theirs = buildInfo(theirMetadata) as { sources: { type: string; ref: string }[] };
    expect(theirs.sources.map((s) => [s.type, s.ref])).toEqual(
      [["docker-image", `${registry.host}/test/busybox:latest`], ["git", `${gitd.url("repo.git")}#main`], ["http", notesUrl()]].sort((a, b) => (a[1]! < b[1]! ? -1 : 1)),
    );
    expect(buildInfo(ourMetadata)).toEqual(theirs);
    const ours = join(h.temp("cache"), "dir");
    const e = await onState(h, join(h.temp("state"), "s")).build(definition, ["--export-cache", `type=local,dest=${ours},mode=max`]);
    expect(e.code).toBe(0);
    // Every key: the image's, the commit's, the downloaded file's and the step's.
    expect(recordDigests(ours)).toEqual(recordDigests(cache));
  });

  test("we export, BuildKit imports: a Dockerfile's ADD of a URL and the RUN after it are CACHED", async () => {
    const dockerfileDir = h.temp("dockerfile");
    writeFileSync(join(dockerfileDir, "Dockerfile"), `FROM ${registry.host}/test/busybox:latest\nADD ${notesUrl()} /n\nRUN cat /n > /r\n`);
    const context = h.temp("context");
    const frontend = ["--frontend", "dockerfile.v0", "--local", `context=${context}`, "--local", `dockerfile=${dockerfileDir}`];
    const cache = join(h.temp("cache"), "dir");
    const r = await onState(h, join(h.temp("state"), "s")).build(new Uint8Array(), [...frontend, "--export-cache", `type=local,dest=${cache},mode=max`]);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    await withPeer(registry.host, async (peer) => {
      const progress = await peerBuild(peer, [...frontend, "--import-cache", `type=local,src=${cache}`]);
      const steps = new Map([...progress.matchAll(/^#(\d+) (\[\d\/3\] (ADD|RUN) .*)$/gm)].map((m) => [m[1], m[2]]));
      expect(steps.size).toBe(2);
      const cached = [...steps].filter(([id]) => new RegExp(`^#${id} CACHED$`, "m").test(progress)).map(([, name]) => name);
      if (cached.length !== 2) console.log(progress);
      expect(cached).toHaveLength(2);
    });
  });
});
