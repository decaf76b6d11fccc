// gateway.v0 as a daemonless `buildkit build` runs it, with stand-in frontend images made of
// busybox (a shell Entrypoint that fails, or exits without a word): the image is pulled from a
// 127.0.0.1 registry and run, its options and BuildKit's variables reach its environment, its
// failures are the build's one-line errors; and a Dockerfile's `# syntax=` line: an image is
// handed the build, docker/dockerfile is this built-in frontend (no Docker Hub).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeBusyboxImage, pushImage } from "../../fixtures/images.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { startRegistry, type TestRegistry } from "../../fixtures/registry.ts";
import { BuildHarness } from "../build/harness.ts";

const run = requireIntegration("gateway frontend tests", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] });
let h: BuildHarness;
let registry: TestRegistry;

/** A busybox image at REGISTRY/test/NAME:latest whose Entrypoint is `script`. */
async function frontendImage(name: string, script: string, labels: Record<string, string> = {}): Promise<string> {
  const layout = await makeBusyboxImage({
    dir: h.temp(`image-${name}`),
    executables: { "frontend.sh": `#!/bin/sh\n${script}\n` },
    config: { Entrypoint: ["/frontend.sh"], Env: ["PATH=/bin", "FROM_IMAGE=yes"], Labels: labels },
  });
  const ref = `${registry.host}/test/${name}:latest`;
  await pushImage(layout.layoutDir, ref);
  return ref;
}

beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  registry = await startRegistry();
}, 120_000);
afterAll(async () => {
  await registry?.stop();
  h?.cleanup();
});

const gateway = (source: string, ...extra: string[]) => h.build(new Uint8Array(), ["--frontend", "gateway.v0", "--opt", `source=${source}`, ...extra]);
const lastLine = (stderr: string) => stderr.trim().split("\n").at(-1) ?? "";

describe.skipIf(!run)("gateway.v0 daemonless", () => {
  test("the image's Entrypoint runs with its Env, the options and BuildKit's variables; its failure is the build's", async () => {
    // Writes what it was given to stderr, which the error quotes, and fails.
    const ref = await frontendImage("env", 'env | grep -E "^(BUILDKIT_|FROM_IMAGE)" | sort | sed -E "s/(SESSION_ID|WORKERS)=.*/\\1=x/" | tr "\\n" " " >&2; test -r /run/config/buildkit/metadata/frontend.bin && echo " metadata-ok" >&2; exit 3');
    const r = await gateway(ref, "--opt", "build-arg:X=1");
    expect(r.code).not.toBe(0);
    const line = lastLine(r.stderr);
    expect(line).toContain(`frontend ${ref} exited with code 3:`);
    expect(line).toContain("BUILDKIT_EXPORTEDPRODUCT=buildkit");
    expect(line).toMatch(/BUILDKIT_FRONTEND_OPT_\d=build-arg:X=1/);
    expect(line).toMatch(new RegExp(`BUILDKIT_FRONTEND_OPT_\\d=source=${ref.replaceAll(".", "\\.")}`));
    expect(line).toContain("BUILDKIT_SESSION_ID=x");
    expect(line).toContain("BUILDKIT_WORKERS=x");
    expect(line).toContain("FROM_IMAGE=yes");
    expect(line).toContain("metadata-ok");
    expect(h.leftoverMounts()).toEqual([]);
  }, 120_000);

  test("a frontend that exits without returning a result fails the build", async () => {
    const ref = await frontendImage("silent", "exit 0");
    const r = await gateway(ref);
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toContain(`frontend ${ref} exited without returning a result`);
  }, 120_000);

  test("a capability the image does not declare is refused before it runs", async () => {
    const ref = await frontendImage("caps", "exit 0", { "moby.buildkit.frontend.caps": "moby.buildkit.frontend.inputs" });
    const r = await gateway(ref, "--opt", "frontend.caps=moby.buildkit.frontend.contexts");
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toContain("unsupported frontend capability moby.buildkit.frontend.contexts");
  }, 120_000);

  test("no source, or an image that is not there: one-line errors", async () => {
    const none = await h.build(new Uint8Array(), ["--frontend", "gateway.v0"]);
    expect(none.code).not.toBe(0);
    expect(lastLine(none.stderr)).toContain("no source specified for gateway");
    const missing = await gateway(`${registry.host}/test/absent:latest`);
    expect(missing.code).not.toBe(0);
    expect(lastLine(missing.stderr)).toContain("test/absent");
  }, 120_000);
});

describe.skipIf(!run)("# syntax= in a Dockerfile", () => {
  const dockerfileBuild = (text: string, ...extra: string[]) => {
    const dir = h.temp("dockerfile");
    writeFileSync(join(dir, "Dockerfile"), text);
    const out = h.temp("out");
    return { out, run: h.build(new Uint8Array(), ["--frontend", "dockerfile.v0", "--local", `context=${dir}`, "--local", `dockerfile=${dir}`, "--output", `type=local,dest=${out}`, ...extra]) };
  };

  test("an image named by the directive is handed the build, with source and cmdline", async () => {
    const ref = await frontendImage("syntax", 'env | grep -E "=(source|cmdline)=" | sort | tr "\\n" " " >&2; exit 5');
    const { run: r } = dockerfileBuild(`# syntax=${ref} --flag\nFROM scratch\n`);
    const line = lastLine((await r).stderr);
    expect(line).toContain(`frontend ${ref} exited with code 5:`);
    expect(line).toMatch(new RegExp(`=cmdline=${ref.replaceAll(".", "\\.")} --flag`));
    expect(line).toMatch(new RegExp(`=source=${ref.replaceAll(".", "\\.")}`));
  }, 120_000);

  test("build-arg:BUILDKIT_SYNTAX overrides the directive", async () => {
    const ref = await frontendImage("syntax-arg", "echo from-arg >&2; exit 6");
    const { run: r } = dockerfileBuild("# syntax=docker/dockerfile:1\nFROM scratch\n", "--opt", `build-arg:BUILDKIT_SYNTAX=${ref}`);
    expect(lastLine((await r).stderr)).toContain(`frontend ${ref} exited with code 6: from-arg`);
  }, 120_000);

  test("docker/dockerfile (any tag) is the built-in frontend: no pull from Docker Hub", async () => {
    const { out, run: r } = dockerfileBuild("# syntax=docker/dockerfile:1.4\nFROM scratch\nCOPY Dockerfile /copied\n");
    const done = await r;
    expect(done.stderr).not.toContain("docker.io");
    expect(done.code).toBe(0);
    expect(await Bun.file(join(out, "copied")).text()).toContain("FROM scratch");
  }, 120_000);
});
