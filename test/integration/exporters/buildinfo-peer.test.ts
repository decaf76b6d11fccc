// Build information (BuildKit v0.11's `containerimage.buildinfo`, embedded in image configs as
// moby.buildkit.buildinfo.v1), against buildkitd v0.11.6 from ../shared/peers: the same build
// through the peer, our daemonless build and our daemon (driven by the peer's buildctl, whose
// builds go through the gateway) reports the same build information, and a Dockerfile that adds
// no layer gives the same image digest on both, with each of buildinfo's settings.
// A registry on 127.0.0.1 holds the busybox base; each engine gets a fresh state.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { image, LINUX_AMD64 } from "../../../src/core/llb/index.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "../build/harness.ts";
import { buildkitdAvailable, startPeerAndServe, type PeerAndServe, type PeerDaemon, type TestDaemon } from "../client/daemons.ts";
import { BUILDCTL, dockerfileProject, frontendArgs, type DockerfileProject } from "../cache-remote/peer-dockerfile.ts";

const run = requireIntegration("build information against BuildKit", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] }) && buildkitdAvailable("build information against BuildKit");

let h: BuildHarness;
let project: DockerfileProject;
let config: string;
let peer: PeerDaemon;
let serve: TestDaemon;
let daemons: PeerAndServe | undefined;

/** No instruction makes a layer: with a fixed SOURCE_DATE_EPOCH the image is the same bytes on both. */
const dockerfile = (reg: string) => `FROM ${reg}/test/busybox:latest AS base
ENV GREETING=hello
FROM base
LABEL org.example.kind=test
`;
const OPTS = ["--opt", "build-arg:FOO=bar", "--opt", "label:x=y", "--opt", "build-arg:SOURCE_DATE_EPOCH=1700000000"];

beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  project = await dockerfileProject(h, dockerfile, () => undefined);
  daemons = await startPeerAndServe(h.temp("config"), project.registry.host);
  ({ peer, serve, config } = daemons);
}, 120_000);
afterAll(async () => {
  await daemons?.stop();
  await project?.registry.stop();
  h?.cleanup();
});

interface Built {
  /** The metadata file, as buildctl writes it (base64 JSON values embedded as objects). */
  readonly metadata: Record<string, unknown>;
  /** The image config, from the OCI archive. */
  readonly config: Record<string, unknown>;
}

function readArchive(tar: string, metadataFile: string): Built {
  const dir = h.temp("unpacked");
  expect(Bun.spawnSync(["tar", "-xf", tar, "-C", dir]).exitCode).toBe(0);
  const blob = (digest: string) => readFileSync(join(dir, "blobs", "sha256", digest.replace(/^sha256:/, "")), "utf8");
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(blob(index.manifests[0]!.digest)) as { config: { digest: string } };
  return { metadata: JSON.parse(readFileSync(metadataFile, "utf8")) as Record<string, unknown>, config: JSON.parse(blob(manifest.config.digest)) as Record<string, unknown> };
}

/** Builds with BuildKit's buildctl on a daemon (the peer or our serve) into an OCI archive. */
function buildctl(addr: string, output: string, args: string[], stdin?: Uint8Array): Built {
  const out = h.temp("out");
  const r = Bun.spawnSync([BUILDCTL, "--addr", addr, "build", "--progress", "plain", "--metadata-file", join(out, "md.json"), "--output", `type=oci,dest=${join(out, "image.tar")}${output}`, ...args], { stdin: stdin ?? "ignore", timeout: 120_000 });
  if (r.exitCode !== 0) console.log(r.stderr.toString());
  expect(r.exitCode).toBe(0);
  return readArchive(join(out, "image.tar"), join(out, "md.json"));
}

/** Our daemonless build into an OCI archive. */
async function ours(output: string, args: string[], stdin?: Uint8Array): Promise<Built> {
  const out = h.temp("out");
  const state = join(h.temp("state"), "s");
  mkdirSync(state);
  const r = await Object.create(h, { root: { value: state } }).build(stdin ?? new Uint8Array(), ["--config", config, "--metadata-file", join(out, "md.json"), "--output", `type=oci,dest=${join(out, "image.tar")}${output}`, ...args]);
  if (r.code !== 0) console.log(r.stderr);
  expect(r.code).toBe(0);
  return readArchive(join(out, "image.tar"), join(out, "md.json"));
}

const decoded = (config: Record<string, unknown>): unknown => {
  const v = config["moby.buildkit.buildinfo.v1"];
  return typeof v === "string" ? JSON.parse(Buffer.from(v, "base64").toString("utf8")) : v;
};

describe.skipIf(!run)("build information, as BuildKit v0.11.6 writes it", () => {
  for (const output of ["", ",buildinfo-attrs=true", ",buildinfo=false"]) {
    test(`Dockerfile without layers${output || " (defaults)"}: same build information and the same image digest as BuildKit, daemonless and through serve`, async () => {
      const theirs = buildctl(peer.addr, output, frontendArgs(project, ...OPTS));
      const mine = await ours(output, frontendArgs(project, ...OPTS));
      const served = buildctl(serve.addr, output, frontendArgs(project, ...OPTS));
      const info = theirs.metadata["containerimage.buildinfo"] as { frontend: string; attrs: Record<string, string>; sources: { ref: string }[] };
      expect(info.frontend).toBe("dockerfile.v0");
      expect(info.attrs["build-arg:FOO"]).toBe("bar");
      expect(info.sources.map((s) => s.ref)).toEqual([`${project.registry.host}/test/busybox:latest`]);
      for (const b of [mine, served]) {
        expect(b.metadata["containerimage.buildinfo"]).toEqual(info);
        expect(decoded(b.config)).toEqual(decoded(theirs.config));
        expect(b.metadata["containerimage.config.digest"]).toBe(theirs.metadata["containerimage.config.digest"]);
        expect(b.metadata["containerimage.digest"]).toBe(theirs.metadata["containerimage.digest"]);
      }
      if (output === ",buildinfo=false") expect(theirs.config["moby.buildkit.buildinfo.v1"]).toBeUndefined();
      else expect(decoded(theirs.config)).toEqual(output ? info : { frontend: info.frontend, sources: info.sources });
    }, 180_000);
  }

  test("a plain definition: the image source pinned, no frontend; the same through the gateway", async () => {
    const def = image(`${project.registry.host}/test/busybox:latest`).run({ args: ["sh", "-c", "echo hi > /hi"] }).root().marshal({ platform: LINUX_AMD64 });
    const theirs = buildctl(peer.addr, "", [], def);
    const pin = (theirs.metadata["containerimage.buildinfo"] as { sources: { pin: string }[] }).sources[0]!.pin;
    expect(theirs.metadata["containerimage.buildinfo"]).toEqual({ sources: [{ type: "docker-image", ref: `${project.registry.host}/test/busybox:latest`, pin }] });
    for (const b of [await ours("", [], def), buildctl(serve.addr, "", [], def)]) {
      expect(b.metadata["containerimage.buildinfo"]).toEqual(theirs.metadata["containerimage.buildinfo"]);
      expect(decoded(b.config)).toEqual(decoded(theirs.config));
    }
  }, 180_000);
});
