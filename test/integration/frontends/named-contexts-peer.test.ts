// Named build contexts (`--opt context:NAME=SPEC`, buildx's --build-context) in the Dockerfile
// frontend, against buildkitd v0.11.6 from ../shared/peers: a base image, a stage and a COPY
// --from name mapped to a registry image or to another --local directory (its .dockerignore
// applied) give the same image, digest for digest, on BuildKit, daemonless here and on our
// daemon driven by the peer's buildctl; git and http contexts give the same files. Unsupported
// kinds are refused by name (oci-layout contexts: oci-layout.test.ts in client/).
// Uncompressed layers and SOURCE_DATE_EPOCH, so the same content is the same bytes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startBusyboxRegistry } from "../../fixtures/images.ts";
import { makeRepo, startGitDaemon, type GitDaemon } from "../../fixtures/git.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import type { TestRegistry } from "../../fixtures/registry.ts";
import { BuildHarness } from "../build/harness.ts";
import { buildkitdAvailable, startPeerAndServe, type PeerAndServe } from "../client/daemons.ts";
import { BUILDCTL } from "../cache-remote/peer-dockerfile.ts";
import { copyProject } from "../exporters/helpers.ts";

const run = requireIntegration("named build contexts against BuildKit", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] }) && buildkitdAvailable("named build contexts against BuildKit");

let h: BuildHarness;
let registry: TestRegistry;
let daemons: PeerAndServe;
let extra: string;
let gitd: GitDaemon;
let files: ReturnType<typeof Bun.serve> | undefined;

/** Each file under dir and its text, sorted: "path: first line". */
function filesUnder(dir: string): string {
  return Bun.spawnSync(["sh", "-c", `cd ${dir} && find . -type f | sort | while read f; do printf '%s: %s\\n' "\${f#./}" "$(head -n1 "$f")"; done`]).stdout.toString();
}
const OPTS = ["--opt", "build-arg:SOURCE_DATE_EPOCH=1700000000"];

beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  const repos = h.temp("repos");
  makeRepo(join(repos, "repo.git"), { commits: [{ files: { README: "from git\n" } }] });
  gitd = await startGitDaemon(repos);
  files = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("from http\n") });
  registry = await startBusyboxRegistry(h.temp("image"));
  daemons = await startPeerAndServe(h.temp("config"), registry.host);
  extra = h.temp("extra");
  for (const [name, text] of Object.entries({ "b.txt": "from the other directory\n", "secret.txt": "left out\n", ".dockerignore": "secret.txt\n" })) {
    writeFileSync(join(extra, name), text);
    utimesSync(join(extra, name), 1600000000, 1600000000);
  }
}, 120_000);
afterAll(async () => {
  files?.stop(true);
  await gitd?.stop();
  await daemons?.stop();
  await registry?.stop();
  h?.cleanup();
});

/** The image digest each of BuildKit, our daemon (via buildctl) and our daemonless build makes of the Dockerfile. */
async function digests(dockerfile: string, contexts: string[]): Promise<{ peer: string; serve: string; ours: string; oursOut: string }> {
  const args = [...copyProject((n) => h.temp(n), dockerfile, [...OPTS, ...contexts]), "--local", `extra=${extra}`];
  const out: Record<string, string> = {};
  for (const [who, addr] of [["peer", daemons.peer.addr], ["serve", daemons.serve.addr]] as const) {
    const dir = h.temp("out");
    const r = Bun.spawnSync([BUILDCTL, "--addr", addr, "build", "--progress", "plain", "--metadata-file", join(dir, "md.json"), "--output", `type=oci,dest=${join(dir, "i.tar")},compression=uncompressed`, ...args], { timeout: 120_000 });
    if (r.exitCode !== 0) console.log(who, r.stderr.toString());
    expect(r.exitCode).toBe(0);
    out[who] = (JSON.parse(readFileSync(join(dir, "md.json"), "utf8")) as Record<string, string>)["containerimage.digest"]!;
  }
  const dir = h.temp("out");
  const r = await h.build(new Uint8Array(), ["--metadata-file", join(dir, "md.json"), "--output", `type=oci,dest=${join(dir, "i.tar")},compression=uncompressed`, ...args]);
  if (r.code !== 0) console.log(r.stderr);
  expect(r.code).toBe(0);
  const ours = (JSON.parse(readFileSync(join(dir, "md.json"), "utf8")) as Record<string, string>)["containerimage.digest"]!;
  return { peer: out.peer!, serve: out.serve!, ours, oursOut: join(dir, "i.tar") };
}

function expectSame(d: { peer: string; serve: string; ours: string }): void {
  expect(d.ours).toBe(d.peer);
  expect(d.serve).toBe(d.peer);
}

describe.skipIf(!run)("named build contexts, as BuildKit v0.11.6 resolves them", () => {
  test("a base image named by a context: FROM base with context:base=docker-image://…", async () => {
    expectSame(await digests("FROM base\nCOPY a.txt /a.txt\n", ["--opt", `context:base=docker-image://${registry.host}/test/busybox:latest`]));
  });

  test("a stage named by a context is that context; its instructions do not run", async () => {
    expectSame(await digests("FROM scratch AS base\nRUN false\nFROM base\nCOPY a.txt /a.txt\n", ["--opt", `context:base=docker-image://${registry.host}/test/busybox:latest`]));
  });

  test("COPY --from a local context: another --local directory, its .dockerignore applied", async () => {
    // Into / : no directory made at build time (its time would differ between builders).
    const d = await digests("FROM scratch\nCOPY --from=src / /\n", ["--opt", "context:src=local:extra"]);
    expectSame(d);
    const listing = Bun.spawnSync(["sh", "-c", `mkdir -p ${d.oursOut}.x && tar -xf ${d.oursOut} -C ${d.oursOut}.x && for b in ${d.oursOut}.x/blobs/sha256/*; do tar -tf $b 2>/dev/null; done`]).stdout.toString();
    expect(listing).toContain("b.txt");
    expect(listing).not.toContain("secret.txt");
  });

  test("a platform-specific context (NAME::PLATFORM) is taken over the plain one; unsupported kinds are refused by name", async () => {
    const platform = `linux/${process.arch === "arm64" ? "arm64" : "amd64"}`;
    expectSame(await digests("FROM base\nCOPY a.txt /a.txt\n", ["--opt", "context:base=docker-image://scratch", "--opt", `context:base::${platform}=docker-image://${registry.host}/test/busybox:latest`]));
    const r = await h.build(new Uint8Array(), [...copyProject((n) => h.temp(n), "FROM base\n", ["--opt", "context:base=input:other"])]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("context base: input contexts are not supported");
  });

  test("git and http contexts: a repository (its .git kept) and a downloaded file, the same files as BuildKit's", async () => {
    const dockerfile = "FROM scratch\nCOPY --from=repo README /from-git/README\nCOPY --from=repo .git/HEAD /from-git/HEAD\nCOPY --from=notes notes.txt /from-http/notes.txt\n";
    const contexts = ["--opt", `context:repo=${gitd.url("repo.git")}#main`, "--opt", `context:notes=http://127.0.0.1:${files!.port}/notes.txt`];
    const args = [...copyProject((n) => h.temp(n), dockerfile, [...OPTS, ...contexts])];
    const trees: Record<string, string> = {};
    for (const [who, addr] of [["peer", daemons.peer.addr], ["serve", daemons.serve.addr]] as const) {
      const dest = h.temp("out");
      const p = Bun.spawn([BUILDCTL, "--addr", addr, "build", "--progress", "plain", "--output", `type=local,dest=${dest}`, ...args], { stdout: "ignore", stderr: "pipe" });
      const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
      if (code !== 0) console.log(who, err);
      expect(code).toBe(0);
      trees[who] = filesUnder(dest);
    }
    const dest = h.temp("out");
    const r = await h.build(new Uint8Array(), ["--output", `type=local,dest=${dest}`, ...args]);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    trees.ours = filesUnder(dest);
    expect(trees.peer).toContain("from-git/README: from git");
    expect(trees.peer).toContain("from-http/notes.txt: from http");
    expect(trees.ours).toBe(trees.peer!);
    expect(trees.serve).toBe(trees.peer!);
  });
});
