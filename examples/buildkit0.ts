// buildkit0: build buildkit-ts and its runtime dependencies with exec steps only. Each
// component is one stage that installs tools, clones its repository, checks out the
// version and builds; the final image gets the binaries through `cp` steps.
//
//   bun examples/buildkit0.ts --target standalone | buildkit debug dump-llb
import type { State } from "../src/core/llb/index.ts";
import type { Example } from "./lib/example.ts";
import type { ExampleOptions } from "./lib/options.ts";
import { runExample } from "./lib/run.ts";
import { assemble, buildkitBuildCommand, type Built, COMPONENTS, CONTAINERD_REPO, goBase, nodeBase, RUNC_REPO } from "./lib/stages.ts";

/** One stage: clone, check out, build, all in the same container. */
function cloneAndBuild(base: State, repo: string, version: string, dir: string, build: string): Built {
  const state = base
    .run({ shlex: `git clone ${repo} ${dir}` })
    .dir(dir)
    .run({ shlex: `git checkout -q ${version}` })
    .run({ shlex: build })
    .root();
  return { state, root: dir };
}

export const buildkit0: Example = {
  name: "buildkit0",
  summary: "exec steps only: one stage per component that clones and builds it",
  allowsLocal: false,
  build(o: ExampleOptions): State {
    const c = COMPONENTS;
    return assemble(o, {
      buildkit: cloneAndBuild(nodeBase(o), o.buildkitRepo, o.buildkit, c.buildkit.dir, buildkitBuildCommand(o)),
      runc: cloneAndBuild(goBase(o), RUNC_REPO, o.runc, c.runc.dir, c.runc.build),
      containerd: cloneAndBuild(goBase(o), CONTAINERD_REPO, o.containerd, c.containerd.dir, c.containerd.build),
    });
  },
};

if (import.meta.main) await runExample(buildkit0);
