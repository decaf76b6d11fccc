// Our Dockerfile frontend as a frontend image: examples/frontend-image.ts built daemonless from
// the compiled binary and this host's glibc, pushed to a throwaway registry, and run as a
// gateway frontend (`--frontend gateway.v0 --opt source=IMAGE`, and a Dockerfile's
// `# syntax=IMAGE` line) by buildkitd v0.11.6 from ../shared/peers, by our `buildkit serve`
// (both driven by BuildKit's buildctl) and by a daemonless build. Its results are compared with
// BuildKit's own dockerfile.v0 on the same project: the same files, and the same image layers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { frontendImageOutput } from "../../../examples/frontend-image.ts";
import { binary } from "../../../bench/lib/binary.ts";
import { startBusyboxRegistry } from "../../fixtures/images.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import type { TestRegistry } from "../../fixtures/registry.ts";
import { BUILDCTL } from "../cache-remote/peer-dockerfile.ts";
import { buildkitdAvailable, runClient, startPeerAndServe, type PeerAndServe, type TestDaemon } from "../client/daemons.ts";
import { DaemonDir } from "../../fixtures/daemon-dir.ts";

const SUITE = "our frontend image in BuildKit";
const run = requireIntegration(SUITE, { runc: true, busybox: true, tools: ["skopeo", "tar", "/usr/bin/docker-registry"] }) && buildkitdAvailable(SUITE);

let work: DaemonDir;
let registry: TestRegistry;
let daemons: PeerAndServe;
let frontendRef: string;

beforeAll(async () => {
  if (!run) return;
  work = new DaemonDir("bk-gw-frontend-");
  registry = await startBusyboxRegistry(work.temp("busybox"));
  daemons = await startPeerAndServe(work.dir, registry.host);
  const config = daemons.config;

  // The image: the compiled binary (built once, reused while the sources are unchanged) alone in --local bin.
  const bin = work.temp("bin");
  copyFileSync(await binary(), join(bin, "buildkit"));
  chmodSync(join(bin, "buildkit"), 0o755);
  frontendRef = `${registry.host}/bk-frontend:dev`;
  const graph = await runClient(["graph", "frontend-image"]);
  expect(graph.code).toBe(0);
  const built = await runClient(
    ["build", "--root", join(work.dir, "state"), "--config", config, "--progress", "plain", "--local", "host=/", "--local", `bin=${bin}`, "--output", frontendImageOutput(frontendRef)],
    { stdin: graph.stdout, timeoutMs: 300_000 },
  );
  if (built.code !== 0) throw new Error(`building the frontend image: ${built.stderr}`);
}, 360_000);

afterAll(async () => {
  await daemons?.stop();
  await registry?.stop();
  work?.removeAll();
});

/** A project directory: the Dockerfile, a .dockerignore and two files (one ignored); fixed times. */
function project(dockerfile: string): string {
  const dir = work.temp("project");
  const files = { Dockerfile: dockerfile, ".dockerignore": "secret.txt\n", "a.txt": "hello\n", "secret.txt": "left out\n" };
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
    utimesSync(join(dir, name), 1600000000, 1600000000);
  }
  return dir;
}

const dockerfile = (host: string) => `FROM ${host}/test/busybox:latest AS build
ARG X=unset
COPY . /src/
RUN echo "x=$X" > /src/x.txt && ls -A /src > /src/listing.txt
FROM scratch
COPY --from=build /src/ /
`;

/** Runs the peer's buildctl against daemon (the peer buildkitd unless given); its exit code and stderr. */
async function buildctl(args: string[], daemon: TestDaemon = daemons.peer): Promise<{ code: number; stderr: string }> {
  const p = Bun.spawn([BUILDCTL, "--addr", daemon.addr, "build", "--progress", "plain", ...args], { stdout: "ignore", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), 180_000);
  const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, stderr };
}

const viaOurs = () => ["--frontend", "gateway.v0", "--opt", `source=${frontendRef}`];
const viaBuildkit = () => ["--frontend", "dockerfile.v0"];
const locals = (dir: string) => ["--local", `context=${dir}`, "--local", `dockerfile=${dir}`];

/** Each file under dir with its text, sorted: "path: text". */
function filesUnder(dir: string): string {
  return Bun.spawnSync(["sh", "-c", `cd ${dir} && find . -type f | sort | while read f; do printf '%s: %s\\n' "\${f#./}" "$(cat "$f" | tr '\\n' '|')"; done`]).stdout.toString();
}

/** The image config field BuildKit v0.11 writes its build information to. */
const BUILDINFO = "moby.buildkit.buildinfo.v1";

interface Descriptor {
  readonly digest: string;
}

/** An OCI tarball's manifest: its config digest and layer digests. */
function ociImage(tarball: string): { config: string; layers: string[]; configJson: Record<string, unknown> } {
  const layout = `${tarball}.d`;
  mkdirSync(layout);
  expect(Bun.spawnSync(["tar", "-xf", tarball, "-C", layout]).exitCode).toBe(0);
  const blob = (d: Descriptor) => join(layout, "blobs", ...d.digest.split(":"));
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests: Descriptor[] };
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!), "utf8")) as { config: Descriptor; layers: Descriptor[] };
  const configJson = JSON.parse(readFileSync(blob(manifest.config), "utf8")) as Record<string, unknown>;
  return { config: manifest.config.digest, layers: manifest.layers.map((l) => l.digest), configJson };
}

describe.skipIf(!run)(SUITE, () => {
  test("gateway.v0 with our image builds the Dockerfile (base image, COPY with .dockerignore, RUN, ARG) as BuildKit's dockerfile.v0 does", async () => {
    const dir = project(dockerfile(registry.host));
    const trees: Record<string, string> = {};
    const progress: Record<string, string> = {};
    for (const [who, frontend] of [["ours", viaOurs()], ["buildkit", viaBuildkit()]] as const) {
      const out = work.temp("out");
      const r = await buildctl([...frontend, ...locals(dir), "--opt", "build-arg:X=y", "--output", `type=local,dest=${out}`]);
      if (r.code !== 0) console.log(who, r.stderr);
      expect(r.code).toBe(0);
      trees[who] = filesUnder(out);
      progress[who] = r.stderr;
    }
    // The frontend's reads and lookups show as BuildKit's do.
    for (const vertex of ["[internal] load build definition from Dockerfile", "[internal] load .dockerignore", `[internal] load metadata for ${registry.host}/test/busybox:latest`, "[internal] load build context"]) {
      expect(progress.ours).toContain(vertex);
    }
    expect(trees.ours).toContain("x.txt: x=y|\n");
    expect(trees.ours).toContain("a.txt: hello|\n");
    expect(trees.ours).not.toContain("secret.txt:");
    expect(trees.ours).toContain("listing.txt: .dockerignore|Dockerfile|a.txt|listing.txt|x.txt|\n");
    expect(trees.ours).toBe(trees.buildkit!);
  }, 300_000);

  test("one result per platform (a RefMap) and a named local context, as BuildKit's dockerfile.v0 gives them", async () => {
    const dir = project("FROM scratch\nCOPY a.txt /\nCOPY --from=extra b.txt /\n");
    const extra = work.temp("extra");
    writeFileSync(join(extra, "b.txt"), "from the named context\n");
    const trees: Record<string, string> = {};
    for (const [who, frontend] of [["ours", viaOurs()], ["buildkit", viaBuildkit()]] as const) {
      const out = work.temp("out");
      const opts = ["--opt", "platform=linux/amd64,linux/arm64", "--opt", "context:extra=local:extra", "--local", `extra=${extra}`];
      const r = await buildctl([...frontend, ...locals(dir), ...opts, "--output", `type=local,dest=${out}`]);
      if (r.code !== 0) console.log(who, r.stderr);
      expect(r.code).toBe(0);
      trees[who] = filesUnder(out);
    }
    expect(trees.ours).toBe("linux_amd64/a.txt: hello|\nlinux_amd64/b.txt: from the named context|\nlinux_arm64/a.txt: hello|\nlinux_arm64/b.txt: from the named context|\n");
    expect(trees.ours).toBe(trees.buildkit!);
  }, 300_000);

  test("the image our frontend makes in BuildKit has the same layers as dockerfile.v0's", async () => {
    const dir = project(dockerfile(registry.host));
    const images: Record<string, ReturnType<typeof ociImage>> = {};
    for (const [who, frontend] of [["ours", viaOurs()], ["buildkit", viaBuildkit()]] as const) {
      const out = work.temp("oci");
      const tarball = join(out, "image.tar");
      const opts = ["--opt", "build-arg:X=y", "--opt", "build-arg:SOURCE_DATE_EPOCH=1700000000"];
      const r = await buildctl([...frontend, ...locals(dir), ...opts, "--output", `type=oci,dest=${tarball},compression=uncompressed`]);
      if (r.code !== 0) console.log(who, r.stderr);
      expect(r.code).toBe(0);
      images[who] = ociImage(tarball);
    }
    expect(images.ours!.layers).toEqual(images.buildkit!.layers);
    // The configs differ only in their build information: the frontend BuildKit ran (gateway.v0)
    // and the sources, which list our frontend image too.
    const { [BUILDINFO]: ourInfo, ...ourConfig } = images.ours!.configJson;
    const { [BUILDINFO]: theirInfo, ...theirConfig } = images.buildkit!.configJson;
    expect(ourConfig).toEqual(theirConfig);
    const info = (v: unknown) => JSON.parse(Buffer.from(String(v), "base64").toString()) as { frontend: string; sources: { ref: string }[] };
    expect(info(ourInfo).frontend).toBe("gateway.v0");
    expect(info(theirInfo).frontend).toBe("dockerfile.v0");
    expect(info(ourInfo).sources.map((x) => x.ref)).toEqual([frontendRef, ...info(theirInfo).sources.map((x) => x.ref)]);
  }, 300_000);

  test("a `# syntax=` line hands the Dockerfile from BuildKit's dockerfile.v0 to our image", async () => {
    const dir = project(`# syntax=${frontendRef}\n${dockerfile(registry.host)}`);
    const out = work.temp("out");
    const r = await buildctl([...viaBuildkit(), ...locals(dir), "--opt", "build-arg:X=z", "--output", `type=local,dest=${out}`]);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`resolve image config for ${frontendRef}`);
    expect(filesUnder(out)).toContain("x.txt: x=z|\n");
  }, 300_000);

  test("a Dockerfile error fails the build, and buildctl names it", async () => {
    const dir = project("FROM scratch\nBOGUS x\n");
    const r = await buildctl([...viaOurs(), ...locals(dir), "--output", `type=local,dest=${work.temp("out")}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("error: failed to solve: dockerfile parse error on line 2: unknown instruction: BOGUS\n");
  }, 300_000);
});

describe.skipIf(!run)("our frontend image on our own daemon and daemonless", () => {
  /** What BuildKit's dockerfile.v0 on the peer makes of the same project. */
  async function buildkitFiles(dir: string, opts: string[]): Promise<string> {
    const out = work.temp("out");
    const r = await buildctl([...viaBuildkit(), ...locals(dir), ...opts, "--output", `type=local,dest=${out}`]);
    expect(r.code).toBe(0);
    return filesUnder(out);
  }

  test("buildctl → buildkit serve, gateway.v0: the same files as BuildKit's dockerfile.v0, its steps shown", async () => {
    const dir = project(dockerfile(registry.host));
    const out = work.temp("out");
    const r = await buildctl([...viaOurs(), ...locals(dir), "--opt", "build-arg:X=y", "--output", `type=local,dest=${out}`], daemons.serve);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    for (const vertex of ["[internal] load build definition from Dockerfile", `[internal] load metadata for ${registry.host}/test/busybox:latest`, "[internal] load build context"]) {
      expect(r.stderr).toContain(vertex);
    }
    expect(filesUnder(out)).toBe(await buildkitFiles(dir, ["--opt", "build-arg:X=y"]));
    expect(daemons.serve.leftoverMounts()).toEqual([]);
  }, 300_000);

  test("the image our serve makes with the frontend image is the one buildkitd makes with it, build information included", async () => {
    // Nothing a step makes: a file a RUN writes, or a directory a COPY creates, carries the time
    // of the build (in BuildKit too), so only a shared cache makes two builds' layers alike.
    const dir = project(`FROM ${registry.host}/test/busybox:latest\nARG X\nCOPY a.txt /\nENV X=$X\nLABEL org.example=frontend-image\n`);
    const images: Record<string, ReturnType<typeof ociImage>> = {};
    for (const daemon of [daemons.peer, daemons.serve]) {
      const tarball = join(work.temp("oci"), "image.tar");
      const opts = ["--opt", "build-arg:X=y", "--opt", "build-arg:SOURCE_DATE_EPOCH=1700000000"];
      const r = await buildctl([...viaOurs(), ...locals(dir), ...opts, "--output", `type=oci,dest=${tarball},compression=uncompressed`], daemon);
      if (r.code !== 0) console.log(daemon.kind, r.stderr);
      expect(r.code).toBe(0);
      images[daemon.kind] = ociImage(tarball);
    }
    expect(images.serve!.layers).toEqual(images.buildkitd!.layers);
    expect(images.serve!.configJson).toEqual(images.buildkitd!.configJson);
    expect(images.serve!.config).toBe(images.buildkitd!.config);
  }, 300_000);

  test("a `# syntax=` line hands the build from our dockerfile.v0 to the image; a Dockerfile error is named", async () => {
    const dir = project(`# syntax=${frontendRef}\n${dockerfile(registry.host)}`);
    const out = work.temp("out");
    const r = await buildctl([...viaBuildkit(), ...locals(dir), "--opt", "build-arg:X=z", "--output", `type=local,dest=${out}`], daemons.serve);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`[frontend] ${frontendRef}`);
    expect(filesUnder(out)).toContain("x.txt: x=z|\n");

    const bad = await buildctl([...viaOurs(), ...locals(project("FROM scratch\nBOGUS x\n")), "--output", `type=local,dest=${work.temp("out")}`], daemons.serve);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("dockerfile parse error on line 2: unknown instruction: BOGUS");
  }, 300_000);

  test("daemonless: buildkit build --frontend gateway.v0 runs the image here", async () => {
    const dir = project(dockerfile(registry.host));
    const out = work.temp("out");
    const r = await runClient(
      ["build", "--root", join(work.dir, "state"), "--config", daemons.config, "--progress", "plain", "--frontend", "gateway.v0", "--opt", `source=${frontendRef}`, "--opt", "build-arg:X=y", ...locals(dir), "--output", `type=local,dest=${out}`],
      { timeoutMs: 180_000 },
    );
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    expect(filesUnder(out)).toBe(await buildkitFiles(dir, ["--opt", "build-arg:X=y"]));
  }, 300_000);
});

describe.skipIf(!run)("our client asking for the frontend image", () => {
  test("buildkit build --addr with --frontend gateway.v0, against buildkitd and against buildkit serve: the files of BuildKit's dockerfile.v0", async () => {
    const dir = project(dockerfile(registry.host));
    const expected = await (async () => {
      const out = work.temp("out");
      const r = await buildctl([...viaBuildkit(), ...locals(dir), "--opt", "build-arg:X=c", "--output", `type=local,dest=${out}`]);
      expect(r.code).toBe(0);
      return filesUnder(out);
    })();
    for (const daemon of [daemons.peer, daemons.serve]) {
      const out = work.temp("out");
      const r = await runClient(["build", "--addr", daemon.addr, "--progress", "plain", ...viaOurs(), "--opt", "build-arg:X=c", ...locals(dir), "--output", `type=local,dest=${out}`], { timeoutMs: 180_000 });
      if (r.code !== 0) console.log(daemon.kind, r.stderr);
      expect(r.code).toBe(0);
      expect(filesUnder(out)).toBe(expected);
    }
  }, 300_000);
});

describe.skipIf(!run)("our frontend image's warnings", () => {
  test("a Dockerfile with an empty continuation line: the image calls Warn (buildkitd and serve have gateway.warnings), on the Dockerfile's load vertex", async () => {
    const dir = project(`FROM ${registry.host}/test/busybox:latest\nRUN echo one \\\n\n  && echo two\n`);
    for (const daemon of [daemons.peer, daemons.serve]) {
      // rawjson shows every event: a plain printer prints a warning only when its vertex is printed again.
      const r = await runClient(["build", "--addr", daemon.addr, "--progress", "rawjson", ...viaOurs(), ...locals(dir)], { timeoutMs: 180_000 });
      if (r.code !== 0) console.log(daemon.kind, r.stderr);
      expect(r.code).toBe(0);
      const events = r.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
      const warnings = events.filter((e) => e.type === "warning");
      expect({ daemon: daemon.kind, shorts: warnings.map((w) => w.short) }).toEqual({ daemon: daemon.kind, shorts: ["Empty continuation line found in: RUN echo one   && echo two"] });
      const load = events.find((e) => e.type === "vertex" && e.name === "[internal] load build definition from Dockerfile");
      expect(load?.digest).toBe(warnings[0]!.vertex);
      expect(warnings[0]).toMatchObject({ url: "https://github.com/moby/moby/pull/33719", source: { info: { filename: "Dockerfile" }, ranges: [{ start: { line: 4 } }] } });
    }
  }, 300_000);
});
