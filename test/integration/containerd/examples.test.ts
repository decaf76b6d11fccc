// The examples' `--target containerd` graphs on the containerd worker, offline. The real graphs
// pull golang/node/debian images and clone from GitHub, which tests cannot reach; here the same
// graphs (printed by `buildkit graph NAME --target containerd`, unchanged but for the base-image
// flags) use a busybox image from a local registry whose git, make, apt-get, npm and bun are
// stubs that create the files the real tools would. So the graph's shape runs for real: image
// pulls into containerd, clone and build stages, cache mounts, the copy steps (and buildkit4's
// merge) into the runtime image. buildkit2 (git sources from GitHub) is not run; buildkit3 and
// buildkit4 run with every component local.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeBusyboxImage, pushImage } from "../../fixtures/images.ts";
import { startRegistry, type TestRegistry } from "../../fixtures/registry.ts";
import { BuildHarness } from "../build/harness.ts";
import { BUN, CLI } from "../../paths.ts";
import { ContainerdHarness, NAMESPACE, shouldRun } from "./harness.ts";

const run = shouldRun("examples on the containerd worker") && Bun.which("skopeo") !== null;

const STUBS: Record<string, string> = {
  "usr/local/bin/git": '#!/bin/sh\n# stub: clone makes the directory; checkout succeeds\nif [ "$1" = clone ]; then mkdir -p "$3" && echo "$2" > "$3/.origin"; fi\n',
  "usr/local/bin/make": '#!/bin/sh\n# stub: every target named is a file saying so\nfor a in "$@"; do case "$a" in *=*) ;; *) mkdir -p "$(dirname "$a")" && echo "made $a" > "$a";; esac; done\n',
  "usr/local/bin/apt-get": "#!/bin/sh\nexit 0\n",
  "usr/local/bin/npm": "#!/bin/sh\nmkdir -p node_modules/.bin && ln -sf /usr/local/bin/bun node_modules/.bin/bun\n",
  // bun scripts/build-binaries.ts --only TARGET
  "usr/local/bin/bun": '#!/bin/sh\nmkdir -p dist && echo "built buildkit" > "dist/buildkit-$3"\n',
};
const ARTIFACTS = ["buildkit", "runc", "containerd", "containerd-shim-runc-v2"];

describe.if(run)("examples --target containerd on the containerd worker (offline stand-ins)", () => {
  const cd = new ContainerdHarness();
  let registry: TestRegistry;
  let h: BuildHarness;
  const locals: Record<string, string> = {};

  beforeAll(async () => {
    await cd.start();
    h = new BuildHarness();
    registry = await startRegistry();
    const layout = await makeBusyboxImage({ dir: h.temp("image"), executables: STUBS });
    await pushImage(layout.layoutDir, `${registry.host}/stub/tools:v1`);
    for (const name of ["buildkit", "runc", "containerd"]) {
      const dir = h.temp(`${name}-src`);
      mkdirSync(join(dir, "node_modules"));
      writeFileSync(join(dir, "README"), `${name} source\n`);
      locals[`${name}-src`] = dir;
    }
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    h?.cleanup();
    await cd.stop();
  });

  const cases: [string, string[]][] = [
    ["buildkit0", []],
    ["buildkit1", []],
    ["buildkit3", ["--buildkit", "local", "--runc", "local", "--containerd", "local"]],
    ["buildkit4", ["--buildkit", "local", "--runc", "local", "--containerd", "local"]],
  ];
  for (const [name, extra] of cases) {
    test(`${name}: the graph builds and its runtime image holds buildkit, runc and containerd`, async () => {
      const image = `${registry.host}/stub/tools:v1`;
      const graph = Bun.spawnSync([BUN, CLI, "graph", name, "--target", "containerd", "--go-image", image, "--node-image", image, "--runtime-image", image, ...extra], { stdout: "pipe", stderr: "pipe" });
      expect(graph.stderr.toString()).toBe("");
      expect(graph.exitCode).toBe(0);
      const def = new Uint8Array(graph.stdout);
      const out = h.temp(`${name}-out`);
      const workerArgs = ["--worker", "containerd", "--containerd-address", cd.containerd.address, "--containerd-namespace", NAMESPACE];
      const r = await h.build(def, [...workerArgs, "--output", `type=local,dest=${out}`], { locals });
      expect(r.stderr).not.toContain("error");
      expect(r.code).toBe(0);
      for (const a of ARTIFACTS) expect(readFileSync(join(out, "usr/local/bin", a), "utf8")).toMatch(/^(made|built) /);
      expect(await cd.leftovers()).toEqual([]);
    }, 120_000);
  }
});
