// Dockerfile parser warnings as a BuildKit user sees them: buildctl prints `#N WARN: Empty
// continuation line found in: …` under the Dockerfile's load step, from `buildkit serve` as from
// buildkitd v0.11.6, and our CLI prints the same line daemonless and with --addr against either.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "../build/harness.ts";
import { BUILDCTL, dockerfileProject, frontendArgs, type DockerfileProject } from "../cache-remote/peer-dockerfile.ts";
import { buildctlAvailable } from "../serve/daemon.ts";
import type { WarningJson } from "../../../src/core/progress/warning-json.ts";
import { buildkitdAvailable, runClient, startPeerAndServe, type PeerAndServe } from "../client/daemons.ts";

const SUITE = "Dockerfile warnings against BuildKit";
const run =
  requireIntegration(SUITE, { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] }) && buildkitdAvailable(SUITE) && buildctlAvailable(SUITE);

const EMPTY_CONTINUATION = (host: string) => `FROM ${host}/test/busybox:latest
COPY a /a
RUN echo one \\

  && echo two
`;
const WARN = "WARN: Empty continuation line found in: RUN echo one   && echo two";

/** The `#N WARN: …` lines of a plain progress output, with the name of the step they are under. */
function warnings(stderr: string): string[] {
  const names = new Map<string, string>();
  const out: string[] = [];
  for (const line of stderr.split("\n")) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const [, n, text] = m as unknown as [string, string, string];
    if (!names.has(n)) names.set(n, text);
    if (text.startsWith("WARN: ")) out.push(`${names.get(n)}: ${text}`);
  }
  return out;
}

describe.if(run)(SUITE, () => {
  let h: BuildHarness;
  let project: DockerfileProject;
  let daemons: PeerAndServe;

  beforeAll(async () => {
    h = new BuildHarness();
    project = await dockerfileProject(h, EMPTY_CONTINUATION, (dir) => writeFileSync(join(dir, "a"), "a\n"));
    daemons = await startPeerAndServe(h.temp("config"), project.registry.host);
  }, 120_000);
  afterAll(async () => {
    await daemons?.stop();
    await project?.registry.stop();
    h?.cleanup();
  });

  const buildctl = async (addr: string) => {
    const proc = Bun.spawn([BUILDCTL, "--addr", addr, "build", "--progress", "plain", ...frontendArgs(project)], { stdout: "pipe", stderr: "pipe", env: { ...process.env, BUILDKIT_HOST: "" } });
    const timer = setTimeout(() => proc.kill(), 100_000);
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    return { code, stderr };
  };

  test("buildctl prints the same WARN line from serve as from buildkitd", async () => {
    const peer = await buildctl(daemons.peer.addr);
    expect(peer.code).toBe(0);
    expect(warnings(peer.stderr)).toEqual([`[internal] load build definition from Dockerfile: ${WARN}`]);
    const ours = await buildctl(daemons.serve.addr);
    expect(ours.code).toBe(0);
    expect(warnings(ours.stderr)).toEqual(warnings(peer.stderr));
  }, 240_000);

  const EXPECTED = [`[internal] load build definition from Dockerfile: ${WARN}`];

  test("our CLI prints it daemonless", async () => {
    const r = await h.build(new Uint8Array(), [...frontendArgs(project), "--config", daemons.config, "--progress", "plain"]);
    expect(r.code).toBe(0);
    expect(warnings(r.stderr)).toEqual(EXPECTED);
    // The trace file keeps it too.
    expect(r.trace().filter((e) => e.type === "warning").map((e) => e.short)).toEqual([WARN.slice("WARN: ".length)]);
  }, 240_000);

  test("our CLI prints it with --addr, against serve and against buildkitd", async () => {
    for (const addr of [daemons.serve.addr, daemons.peer.addr]) {
      const r = await runClient(["build", "--addr", addr, "--progress", "plain", ...frontendArgs(project)], { timeoutMs: 180_000 });
      expect({ addr, code: r.code, warnings: warnings(r.stderr) }).toEqual({ addr, code: 0, warnings: EXPECTED });
    }
  }, 240_000);

  test("--progress rawjson carries the warning: vertex, detail, url, the Dockerfile and its line", async () => {
    for (const addr of [undefined, daemons.serve.addr, daemons.peer.addr]) {
      const args = ["build", ...(addr ? ["--addr", addr] : ["--config", daemons.config]), "--progress", "rawjson", ...frontendArgs(project)];
      const r = addr ? await runClient(args, { timeoutMs: 180_000 }) : await h.build(new Uint8Array(), args.slice(1));
      expect(r.code).toBe(0);
      const records = r.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
      const warning = records.find((e) => e.type === "warning") as WarningJson | undefined;
      expect(warning).toMatchObject({
        level: 1,
        short: WARN.slice("WARN: ".length),
        detail: ["Empty continuation lines will become errors in a future release"],
        url: "https://github.com/moby/moby/pull/33719",
        source: { info: { filename: "Dockerfile" }, ranges: [{ start: { line: 5, character: 0 }, end: { line: 5, character: 0 } }] },
      });
      expect(Buffer.from(warning!.source!.info.data, "base64").toString()).toBe(EMPTY_CONTINUATION(project.registry.host));
      const load = records.find((e) => e.type === "vertex" && e.name === "[internal] load build definition from Dockerfile");
      expect(load?.digest).toBe(warning!.vertex);
    }
  }, 300_000);
});
