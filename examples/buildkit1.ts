// buildkit1: like buildkit0, but cloning each repository is a stage of its own. Clones run
// concurrently with each other and with installing the toolchains; the build stage mounts
// the cloned tree, and cache mounts keep Go and npm downloads between builds.
//
//   bun examples/buildkit1.ts --target standalone | buildkit debug dump-llb
import { image, scratch, type State } from "../src/core/llb/index.ts";
import type { Example } from "./lib/example.ts";
import type { ExampleOptions } from "./lib/options.ts";
import { runExample } from "./lib/run.ts";
import { assemble, buildkitBuildCommand, buildMounted, COMPONENTS, CONTAINERD_REPO, goBase, nodeBase, RUNC_REPO } from "./lib/stages.ts";

/** A stage that only clones: its result is the checked-out tree alone. */
function clone(o: ExampleOptions, repo: string, version: string): State {
  return image(o.goImage)
    .run({
      shlex: `sh -c "git clone ${repo} /out && git -C /out checkout -q ${version}"`,
      mounts: [{ dest: "/out", source: scratch() }],
      name: `clone ${repo}#${version}`,
    })
    .getMount("/out")!;
}

export const buildkit1: Example = {
  name: "buildkit1",
  summary: "clone stages separate from build stages, for concurrency",
  allowsLocal: false,
  build(o: ExampleOptions): State {
    const c = COMPONENTS;
    return assemble(o, {
      buildkit: buildMounted(nodeBase(o), clone(o, o.buildkitRepo, o.buildkit), c.buildkit.dir, buildkitBuildCommand(o), "build buildkit"),
      runc: buildMounted(goBase(o), clone(o, RUNC_REPO, o.runc), c.runc.dir, c.runc.build, "build runc"),
      containerd: buildMounted(goBase(o), clone(o, CONTAINERD_REPO, o.containerd), c.containerd.dir, c.containerd.build, "build containerd"),
    });
  },
};

if (import.meta.main) await runExample(buildkit1);
