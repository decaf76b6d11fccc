// Dockerfile failures as a BuildKit user sees them through buildctl: the same Dockerfile
// excerpt and the same `error:` line from `buildkit serve` as from buildkitd v0.11.6 (a failing
// RUN, located by the definition's source map; a parse error, located by the frontend), and
// our own CLI printing the same excerpt daemonless.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "../build/harness.ts";
import { BUILDCTL, dockerfileProject, frontendArgs, type DockerfileProject } from "../cache-remote/peer-dockerfile.ts";
import { buildctlAvailable } from "../serve/daemon.ts";
import { buildkitdAvailable, startPeerAndServe, type PeerAndServe } from "../client/daemons.ts";

const SUITE = "Dockerfile errors against BuildKit";
const run =
  requireIntegration(SUITE, { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] }) && buildkitdAvailable(SUITE) && buildctlAvailable(SUITE);

const FAILING_RUN = (host: string) => `FROM ${host}/test/busybox:latest
COPY a /a
RUN echo first && \\
  exit 7
RUN echo never
`;
const UNKNOWN_INSTRUCTION = (host: string) => `FROM ${host}/test/busybox:latest
COPY a /a
FOO bar
`;

/** The excerpts (Go's Source.Print blocks) in stderr, in order, and the last line. */
function shown(stderr: string): { excerpts: string[]; error: string } {
  return {
    excerpts: stderr.match(/^\S[^\n]*:\d+\n-{20}\n(?: +\d+ \| (?:>>>| {3}) [^\n]*\n)*-{20}\n/gm) ?? [],
    error: stderr.trimEnd().split("\n").at(-1) ?? "",
  };
}

describe.if(run)(SUITE, () => {
  let h: BuildHarness;
  let failing: DockerfileProject;
  let daemons: PeerAndServe;

  beforeAll(async () => {
    h = new BuildHarness();
    failing = await dockerfileProject(h, FAILING_RUN, (dir) => writeFileSync(join(dir, "a"), "a\n"));
    daemons = await startPeerAndServe(h.temp("config"), failing.registry.host);
  }, 120_000);
  afterAll(async () => {
    await daemons?.stop();
    await failing?.registry.stop();
    h?.cleanup();
  });

  const buildctl = async (addr: string, p: DockerfileProject) => {
    const proc = Bun.spawn([BUILDCTL, "--addr", addr, "build", "--progress", "plain", ...frontendArgs(p)], { stdout: "pipe", stderr: "pipe", env: { ...process.env, BUILDKIT_HOST: "" } });
    const timer = setTimeout(() => proc.kill(), 100_000);
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    return { code, ...shown(stderr) };
  };

  test("a failing RUN: buildctl shows the same lines and error from serve as from buildkitd", async () => {
    const peer = await buildctl(daemons.peer.addr, failing);
    expect(peer.code).not.toBe(0);
    expect(peer.excerpts).toEqual([`Dockerfile:3
--------------------
   2 |     COPY a /a
   3 | >>> RUN echo first && \\
   4 | >>>   exit 7
   5 |     RUN echo never
--------------------
`]);
    expect(peer.error).toBe(`error: failed to solve: process "/bin/sh -c echo first &&   exit 7" did not complete successfully: exit code: 7`);
    const ours = await buildctl(daemons.serve.addr, failing);
    expect(ours.code).not.toBe(0);
    expect(ours.excerpts).toEqual(peer.excerpts);
    expect(ours.error).toBe(peer.error);
  }, 240_000);

  test("a parse error: the same lines and error", async () => {
    writeFileSync(join(failing.dockerfileDir, "Dockerfile"), UNKNOWN_INSTRUCTION(failing.registry.host));
    try {
      const peer = await buildctl(daemons.peer.addr, failing);
      expect(peer.code).not.toBe(0);
      expect(peer.excerpts.length).toBe(1);
      expect(peer.excerpts[0]).toContain(" 3 | >>> FOO bar\n");
      const ours = await buildctl(daemons.serve.addr, failing);
      expect(ours.excerpts).toEqual(peer.excerpts);
      expect(ours.error).toBe(peer.error);
    } finally {
      writeFileSync(join(failing.dockerfileDir, "Dockerfile"), FAILING_RUN(failing.registry.host));
    }
  }, 240_000);

  test("our CLI, daemonless, shows the failing RUN's lines above its error", async () => {
    const r = await h.build(new Uint8Array(), [...frontendArgs(failing), "--config", daemons.config, "--progress", "plain"]);
    expect(r.code).toBe(1);
    const { excerpts, error } = shown(r.stderr);
    expect(excerpts).toEqual([expect.stringContaining(" 3 | >>> RUN echo first && \\\n   4 | >>>   exit 7\n")]);
    expect(error).toContain('process "/bin/sh -c echo first &&   exit 7" did not complete successfully: exit code: 7');
  }, 240_000);
});
