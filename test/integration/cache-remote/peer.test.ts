// Cache interchange with BuildKit v0.11.6 itself (../shared/peers): a multi-stage Dockerfile
// built through the Dockerfile frontend on both sides. BuildKit's buildkitd exports a cache that
// our engine imports with every step CACHED, and the reverse, through a local directory and a
// registry on 127.0.0.1. Each direction gets a fresh buildkitd (its own root and socket), killed
// and unmounted at the end.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setXattr } from "../../../src/core/fs/sys.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import type { TestRegistry } from "../../fixtures/registry.ts";
import { BuildHarness } from "../build/harness.ts";
import { buildkitdAvailable } from "../client/daemons.ts";
import { withPeer } from "./peer-daemon.ts";
import { dockerfileProject, frontendArgs, peerBuild, peerSteps, type DockerfileProject } from "./peer-dockerfile.ts";
import { cachedSteps, onState, ranSteps } from "./helpers.ts";

const run = requireIntegration("cache interchange with BuildKit", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] }) && buildkitdAvailable("cache interchange with BuildKit");

let h: BuildHarness;
let registry: TestRegistry;
let project: DockerfileProject;

/**
 * Image source, WORKDIR (file), RUNs (exec), COPY --from (file with a selector), COPYs from the
 * build context (keyed by BuildKit on the content of the paths they copy, as the context itself
 * is session-bound) and a RUN after them with a read-only bind mount of the context (keyed the
 * same way).
 */
const STEPS = [
  "[a 2/3] RUN echo one > /one",
  "[a 3/3] RUN mkdir -p /d && echo two > /d/two",
  "[stage-1 2/6] WORKDIR /w",
  "[stage-1 3/6] COPY --from=a /d/two /w/two",
  "[stage-1 4/6] COPY . /app",
  "[stage-1 5/6] COPY app.txt /x",
  "[stage-1 6/6] RUN --mount=type=bind,source=sub,target=/m cat /w/two /x /m/a.txt /app/link > /w/three",
];
const dockerfile = (reg: string) => `FROM ${reg}/test/busybox:latest AS a
RUN echo one > /one
RUN mkdir -p /d && echo two > /d/two

FROM ${reg}/test/busybox:latest
WORKDIR /w
COPY --from=a /d/two /w/two
COPY . /app
COPY app.txt /x
RUN --mount=type=bind,source=sub,target=/m cat /w/two /x /m/a.txt /app/link > /w/three
`;

/**
 * A small build context: files, a directory, a symlink, an executable, and user xattrs on a
 * file and a directory (BuildKit's content checksum includes them).
 */
function makeContext(dir: string): void {
  writeFileSync(join(dir, "app.txt"), "hello\n");
  setXattr(join(dir, "app.txt"), "user.note", new TextEncoder().encode("greeting"));
  mkdirSync(join(dir, "sub"));
  setXattr(join(dir, "sub"), "user.kind", new Uint8Array([0, 0xff]));
  writeFileSync(join(dir, "sub/a.txt"), "a\n");
  writeFileSync(join(dir, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
  symlinkSync("sub/a.txt", join(dir, "link"));
}

beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  project = await dockerfileProject(h, dockerfile, makeContext);
  registry = project.registry;
}, 120_000);
afterAll(async () => {
  await registry?.stop();
  h?.cleanup();
});

async function oursImports(spec: string): Promise<void> {
  const out = h.temp("out");
  const r = await onState(h, join(h.temp("state"), "s")).build(new Uint8Array(), frontendArgs(project, "--import-cache", spec, "--output", `type=local,dest=${out}`));
  if (r.code !== 0) console.log(r.stderr);
  expect(r.code).toBe(0);
  // The frontend's own work (Dockerfile, .dockerignore, image metadata) and the build context
  // are done in each build, by BuildKit too: never cached.
  expect(ranSteps(r).filter((n) => !n.startsWith("[internal] "))).toEqual([]);
  expect(cachedSteps(r).sort()).toEqual([...STEPS].sort());
  expect(readFileSync(join(out, "w/three"), "utf8")).toBe("two\nhello\na\na\n");
}

async function oursExports(spec: string): Promise<void> {
  const r = await onState(h, join(h.temp("state"), "s")).build(new Uint8Array(), frontendArgs(project, "--export-cache", spec));
  if (r.code !== 0) console.log(r.stderr);
  expect(r.code).toBe(0);
  expect(ranSteps(r).filter((n) => !n.includes(" FROM ") && !n.startsWith("[internal]")).sort()).toEqual([...STEPS].sort());
}

describe.skipIf(!run)("cache interchange with BuildKit v0.11.6 (Dockerfile frontend)", () => {
  test("type=local: BuildKit exports, we import with every step CACHED", async () => {
    const cache = join(h.temp("cache"), "dir");
    await withPeer(registry.host, (peer) => {
      const r = peerBuild(peer, project, ["--export-cache", `type=local,dest=${cache},mode=max`]);
      if (r.code !== 0) console.log(r.progress);
      expect(r.code).toBe(0);
    });
    await oursImports(`type=local,src=${cache}`);
  });

  test("type=local: we export, BuildKit imports with every step CACHED", async () => {
    const cache = join(h.temp("cache"), "dir");
    await oursExports(`type=local,dest=${cache},mode=max`);
    await withPeer(registry.host, (peer) => {
      const r = peerBuild(peer, project, ["--import-cache", `type=local,src=${cache}`]);
      if (r.code !== 0) console.log(r.progress);
      expect(r.code).toBe(0);
      expect(peerSteps(r.progress, /^\[(a|stage-1) \d\/\d\] /)).toEqual({ cached: [...STEPS].sort(), ran: [] });
    });
  });

  test("type=registry: BuildKit exports, we import with every step CACHED", async () => {
    const ref = `${registry.host}/cache/from-buildkit:latest`;
    await withPeer(registry.host, (peer) => {
      const r = peerBuild(peer, project, ["--export-cache", `type=registry,ref=${ref},mode=max`]);
      if (r.code !== 0) console.log(r.progress);
      expect(r.code).toBe(0);
    });
    await oursImports(`type=registry,ref=${ref}`);
  });

  test("type=registry: we export, BuildKit imports with every step CACHED", async () => {
    const ref = `${registry.host}/cache/from-ours:latest`;
    await oursExports(`type=registry,ref=${ref},mode=max`);
    await withPeer(registry.host, (peer) => {
      const r = peerBuild(peer, project, ["--import-cache", `type=registry,ref=${ref}`]);
      if (r.code !== 0) console.log(r.progress);
      expect(r.code).toBe(0);
      expect(peerSteps(r.progress, /^\[(a|stage-1) \d\/\d\] /)).toEqual({ cached: [...STEPS].sort(), ran: [] });
    });
  });

  test("type=registry with oci-mediatypes=false and force-compression: a Docker list BuildKit imports with every step CACHED", async () => {
    const ref = `${registry.host}/cache/docker-types:latest`;
    await oursExports(`type=registry,ref=${ref},mode=max,oci-mediatypes=false,compression=uncompressed,force-compression=true`);
    const [host, ...path] = ref.replace(/:latest$/, "").split("/");
    const res = await fetch(`http://${host}/v2/${path.join("/")}/manifests/latest`, { headers: { Accept: "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json" } });
    const index = (await res.json()) as { mediaType: string; manifests: { mediaType: string }[] };
    expect(index.mediaType).toBe("application/vnd.docker.distribution.manifest.list.v2+json");
    const layerTypes = new Set(index.manifests.map((m) => m.mediaType).filter((t) => !t.includes("buildkit")));
    expect([...layerTypes]).toEqual(["application/vnd.docker.image.rootfs.diff.tar"]);
    await withPeer(registry.host, (peer) => {
      const r = peerBuild(peer, project, ["--import-cache", `type=registry,ref=${ref}`]);
      if (r.code !== 0) console.log(r.progress);
      expect(r.code).toBe(0);
      expect(peerSteps(r.progress, /^\[(a|stage-1) \d\/\d\] /)).toEqual({ cached: [...STEPS].sort(), ran: [] });
    });
    // And we read it back ourselves: every step CACHED, nothing run (here the base layers come
    // from the cache too, converted as they were: FROM and the context show CACHED as well).
    const out = h.temp("out");
    const r = await onState(h, join(h.temp("state"), "s")).build(new Uint8Array(), frontendArgs(project, "--import-cache", `type=registry,ref=${ref}`, "--output", `type=local,dest=${out}`));
    expect(r.code).toBe(0);
    expect(ranSteps(r).filter((n) => !n.startsWith("[internal] "))).toEqual([]);
    expect(cachedSteps(r)).toEqual(expect.arrayContaining(STEPS));
    expect(readFileSync(join(out, "w/three"), "utf8")).toBe("two\nhello\na\na\n");
  });
});
