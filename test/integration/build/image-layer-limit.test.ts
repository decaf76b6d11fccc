// `image.layerlimit` (llb.Image(…, WithLayerLimit(n))): only the image's first n layers, as
// BuildKit v0.11 unpacks them, with BuildKit's cache keys (the limit in the manifest key, the
// chain of the kept layers), so a cache exported by buildkitd v0.11.6 (../shared/peers) answers
// here. A limit beyond the image's layers, or not a positive number, fails the build.
// The test image (test/fixtures/images.ts) has two layers: busybox, then /etc/buildkit-ts-image.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { image, LINUX_AMD64 } from "../../../src/core/llb/index.ts";
import { startBusyboxRegistry } from "../../fixtures/images.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import type { TestRegistry } from "../../fixtures/registry.ts";
import { buildkitdAvailable } from "../client/daemons.ts";
import { withPeer } from "../cache-remote/peer-daemon.ts";
import { BUILDCTL } from "../cache-remote/peer-dockerfile.ts";
import { cachedSteps, onState, ranSteps } from "../cache-remote/helpers.ts";
import { BuildHarness } from "./harness.ts";

const run = requireIntegration("image layer limit", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry"] }) && buildkitdAvailable("image layer limit");

let h: BuildHarness;
let registry: TestRegistry;
const ref = () => `${registry.host}/test/busybox:latest`;
const STEP = "ls /etc > /listing";
/** The image's first layer only, and a step on it that writes what /etc holds. */
const limitedBuild = (limit: number) => image(ref(), { layerLimit: limit }).run({ args: ["sh", "-c", STEP] }).root().marshal({ platform: LINUX_AMD64 });

beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  registry = await startBusyboxRegistry(h.temp("image"));
}, 120_000);
afterAll(async () => {
  await registry?.stop();
  h?.cleanup();
});

describe.skipIf(!run)("image.layerlimit", () => {
  test("only the first layers are unpacked; the full image still has them all", async () => {
    const out = h.temp("out");
    const r = await onState(h, join(h.temp("state"), "s")).build(limitedBuild(1), ["--output", `type=local,dest=${out}`]);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    expect(existsSync(join(out, "etc/buildkit-ts-image"))).toBe(false);
    expect(readFileSync(join(out, "listing"), "utf8")).not.toContain("buildkit-ts-image");
    const full = h.temp("out");
    const all = await onState(h, join(h.temp("state"), "s")).build(limitedBuild(2), ["--output", `type=local,dest=${full}`]);
    expect(all.code).toBe(0);
    expect(readFileSync(join(full, "etc/buildkit-ts-image"), "utf8")).toBe("busybox test image\n");
  });

  test("a limit beyond the image's layers, or not a positive number, fails with BuildKit's words", async () => {
    const over = await h.build(limitedBuild(3));
    expect(over.code).toBe(1);
    expect(over.stderr).toContain("layer limit 3 is greater than the number of layers in the image 2");
    const zero = await h.build(image(ref(), { layerLimit: 0 }).run({ args: ["true"] }).root().marshal({ platform: LINUX_AMD64 }));
    expect(zero.code).not.toBe(0);
    expect(zero.stderr).toContain("invalid layer limit 0");
  });

  test("BuildKit's keys: a cache buildkitd exports for a limited image answers here with the step CACHED", async () => {
    const cache = join(h.temp("cache"), "dir");
    await withPeer(registry.host, (peer) => {
      const p = Bun.spawnSync([BUILDCTL, "--addr", peer.addr, "build", "--progress", "plain", "--export-cache", `type=local,dest=${cache},mode=max`], { stdin: limitedBuild(1), timeout: 120_000 });
      if (p.exitCode !== 0) console.log(p.stderr.toString());
      expect(p.exitCode).toBe(0);
    });
    const r = await onState(h, join(h.temp("state"), "s")).build(limitedBuild(1), ["--import-cache", `type=local,src=${cache}`]);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    expect(ranSteps(r).filter((n) => n.includes(STEP))).toEqual([]);
    expect(cachedSteps(r).filter((n) => n.includes(STEP))).toHaveLength(1);
  });
});
