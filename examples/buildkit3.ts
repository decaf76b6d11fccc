// buildkit3: like buildkit2, but any component can come from a local directory instead:
// `--runc=local` reads local("runc-src"), given at build time with `--local runc-src=PATH`;
// likewise --containerd=local (containerd-src) and --buildkit=local (buildkit-src).
//
//   bun examples/buildkit3.ts --target standalone --runc=local | buildkit debug dump-llb
import { local, type State } from "../src/core/llb/index.ts";
import type { Example } from "./lib/example.ts";
import type { ExampleOptions } from "./lib/options.ts";
import { runExample } from "./lib/run.ts";
import { assemble, buildkitBuildCommand, buildMounted, COMPONENTS, CONTAINERD_REPO, goBase, nodeBase, RUNC_REPO } from "./lib/stages.ts";
import { gitSource } from "./buildkit2.ts";

/** Build outputs and dependencies of a checkout are not sent with a local source. */
const LOCAL_EXCLUDES = ["node_modules", "dist", "bin", "*.o"];

function source(name: "buildkit" | "runc" | "containerd", repo: string, version: string): State {
  return version === "local" ? local(`${name}-src`, { excludePatterns: LOCAL_EXCLUDES }) : gitSource(repo, version);
}

export const buildkit3: Example = {
  name: "buildkit3",
  summary: "local sources for any component (--runc=local, --containerd=local, --buildkit=local)",
  allowsLocal: true,
  build(o: ExampleOptions): State {
    const c = COMPONENTS;
    return assemble(o, {
      buildkit: buildMounted(nodeBase(o), source("buildkit", o.buildkitRepo, o.buildkit), c.buildkit.dir, buildkitBuildCommand(o), "build buildkit"),
      runc: buildMounted(goBase(o), source("runc", RUNC_REPO, o.runc), c.runc.dir, c.runc.build, "build runc"),
      containerd: buildMounted(goBase(o), source("containerd", CONTAINERD_REPO, o.containerd), c.containerd.dir, c.containerd.build, "build containerd"),
    });
  },
};

if (import.meta.main) await runExample(buildkit3);
