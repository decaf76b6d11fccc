// Registry images as sources through `buildkit build`: a real docker-registry on 127.0.0.1,
// busybox images made by the tests and pushed with skopeo.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copy, image, scratch } from "../../../src/core/llb/index.ts";
import { resolvedImage } from "../../../src/core/image/image-state.ts";
import { createRegistryClient } from "../../../src/core/registry/index.ts";
import { makeBusyboxImage, pushImage } from "../../fixtures/images.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { startRegistry, type TestRegistry } from "../../fixtures/registry.ts";
import { BuildHarness } from "./harness.ts";

const run = requireIntegration("image source build tests", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] });
let h: BuildHarness;
let registry: TestRegistry;
let mirror: TestRegistry;
beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  [registry, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  const layout = await makeBusyboxImage({ dir: h.temp("image"), extraFiles: { "etc/version": "one\n" } });
  await pushImage(layout.layoutDir, `${registry.host}/test/busybox:latest`);
  await pushImage(layout.layoutDir, `${mirror.host}/library/busybox:latest`);
});
afterAll(async () => {
  await Promise.all([registry?.stop(), mirror?.stop()]);
  h?.cleanup();
});

const sh = (script: string) => ({ args: ["sh", "-c", script] });
const stepCached = (r: { trace(): Record<string, unknown>[] }, prefix: string) =>
  r.trace().find((e) => e.type === "vertex" && e.completed && String(e.name).startsWith(prefix))?.cached === true;

describe.skipIf(!run)("image sources", () => {
  test("pull and run; cached by digest; a moved tag rebuilds; layers are not downloaded twice", async () => {
    const out = h.temp("out");
    const ref = `${registry.host}/test/busybox:latest`;
    const def = image(ref).run({ ...sh("cat /etc/version > /out/version; ls /bin/busybox > /out/ls"), mounts: [{ dest: "/out", source: scratch() }] }).getMount("/out")!;
    const first = await h.build(def, ["--output", `type=local,dest=${out}`]);
    if (first.code !== 0) console.log(first.stderr);
    expect(first.code).toBe(0);
    expect(readFileSync(join(out, "version"), "utf8")).toBe("one\n");
    const again = await h.build(def, ["--output", `type=local,dest=${out}`]);
    expect(stepCached(again, "sh -c cat")).toBe(true);
    // Move the tag: the image resolves to a new digest and the step runs again.
    const layout2 = await makeBusyboxImage({ dir: h.temp("image2"), extraFiles: { "etc/version": "two\n" } });
    await pushImage(layout2.layoutDir, ref);
    const moved = await h.build(def, ["--output", `type=local,dest=${out}`]);
    expect(moved.code).toBe(0);
    expect(stepCached(moved, "sh -c cat")).toBe(false);
    expect(readFileSync(join(out, "version"), "utf8")).toBe("two\n");
    // --no-cache runs the steps again, but the busybox base layer is already there: only
    // statuses of blobs never seen before would be downloads.
    const rerun = await h.build(def, ["--no-cache"]);
    expect(rerun.code).toBe(0);
    const downloads = rerun.trace().filter((e) => e.type === "status" && String(e.id).startsWith("sha256:"));
    expect(downloads).toEqual([]);
  });

  test("a digest-pinned image whose blobs are local builds again with the registry gone", async () => {
    const own = await startRegistry();
    let stopped = false;
    try {
      const layout = await makeBusyboxImage({ dir: h.temp("pinned"), extraFiles: { "etc/version": "pinned\n" } });
      await pushImage(layout.layoutDir, `${own.host}/test/pinned:latest`);
      const def = image(`${own.host}/test/pinned@${layout.digest}`).run(sh("cat /etc/version > /v")).root();
      const first = await h.build(def);
      expect(first.code).toBe(0);
      await own.stop();
      stopped = true;
      const again = await h.build(def);
      expect(again.stderr).not.toContain("error");
      expect(again.code).toBe(0);
      expect(stepCached(again, "sh -c cat")).toBe(true);
      // A tag still asks the registry (it may have moved).
      const tagged = await h.build(image(`${own.host}/test/pinned:latest`).run(sh("true")).root());
      expect(tagged.code).not.toBe(0);
    } finally {
      if (!stopped) await own.stop();
    }
  });

  test("the image config's env, working directory and user become the step's defaults (resolved by the client)", async () => {
    const ref = `${registry.host}/test/configured:latest`;
    const layout = await makeBusyboxImage({ dir: h.temp("configured"), config: { Env: ["FOO=from-config", "PATH=/bin"], WorkingDir: "/etc", User: "nobody" } });
    await pushImage(layout.layoutDir, ref);
    const base = await resolvedImage(ref, { registry: createRegistryClient(), pin: true });
    const out = h.temp("out");
    // As nobody, write where anyone may (/tmp), then take the file out of the root.
    const def = scratch().file(copy(base.run(sh("echo $FOO $(pwd) $(id -u) > /tmp/env")).root(), "/tmp/env", "/env"));
    const r = await h.build(def, ["--output", `type=local,dest=${out}`]);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "env"), "utf8")).toBe("from-config /etc 65534\n");
  });

  test("a mirror serves docker.io without the internet", async () => {
    const config = join(h.temp("config"), "buildkitd.toml");
    writeFileSync(config, `[registry."docker.io"]\n  mirrors = ["${mirror.host}"]\n\n[registry."${mirror.host}"]\n  http = true\n`);
    const out = h.temp("out");
    const r = await h.build(image("busybox").run({ ...sh("cat /etc/version > /out/v"), mounts: [{ dest: "/out", source: scratch() }] }).getMount("/out")!, ["--config", config, "--output", `type=local,dest=${out}`]);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "v"), "utf8")).toBe("one\n");
  });

  test("an unreachable registry and a missing image are one-line errors", async () => {
    const down = await h.build(image("127.0.0.1:1/x:latest"));
    expect(down.code).toBe(1);
    expect(down.stderr.trim().split("\n").at(-1)).toBe("error: docker-image://127.0.0.1:1/x:latest: resolving image 127.0.0.1:1/x:latest: connecting to 127.0.0.1:1: connection refused");
    const missing = await h.build(image(`${registry.host}/test/nope:latest`));
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n").at(-1)).toStartWith(`error: docker-image://${registry.host}/test/nope:latest: resolving image ${registry.host}/test/nope:latest:`);
  });
});
