// buildkit2: like buildkit1, but the repositories are git sources: the engine fetches them
// itself (and caches them by commit) instead of running `git clone` in a container.
//
//   bun examples/buildkit2.ts --target standalone | buildkit debug dump-llb
import { git, type State } from "../src/core/llb/index.ts";
import type { Example } from "./lib/example.ts";
import type { ExampleOptions } from "./lib/options.ts";
import { runExample } from "./lib/run.ts";
import { assemble, buildkitBuildCommand, buildMounted, COMPONENTS, CONTAINERD_REPO, goBase, nodeBase, RUNC_REPO } from "./lib/stages.ts";

/** A repository at a version; .git is kept because the builds read their version from it. */
export function gitSource(repo: string, version: string): State {
  return git(repo, version, { keepGitDir: true });
}

export const buildkit2: Example = {
  name: "buildkit2",
  summary: "git sources instead of clone stages",
  allowsLocal: false,
  build(o: ExampleOptions): State {
    const c = COMPONENTS;
    return assemble(o, {
      buildkit: buildMounted(nodeBase(o), gitSource(o.buildkitRepo, o.buildkit), c.buildkit.dir, buildkitBuildCommand(o), "build buildkit"),
      runc: buildMounted(goBase(o), gitSource(RUNC_REPO, o.runc), c.runc.dir, c.runc.build, "build runc"),
      containerd: buildMounted(goBase(o), gitSource(CONTAINERD_REPO, o.containerd), c.containerd.dir, c.containerd.build, "build containerd"),
    });
  },
};

if (import.meta.main) await runExample(buildkit2);
