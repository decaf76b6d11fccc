// buildkit4: like buildkit3, but the runtime image is a merge op: each component's artifacts
// are copied into a layer of their own (scratch + /usr/local/bin), and the layers are stacked
// on the runtime image with merge, so changing one component leaves the other layers as
// they were (BuildKit's examples/buildkit4 does the same with llb.Merge).
//
//   bun examples/buildkit4.ts --target standalone | buildkit debug dump-llb
import { copy, image, local, merge, scratch, type State } from "../src/core/llb/index.ts";
import type { Example } from "./lib/example.ts";
import type { ExampleOptions } from "./lib/options.ts";
import { runExample } from "./lib/run.ts";
import { buildkitBuildCommand, buildMounted, COMPONENTS, CONTAINERD_REPO, goBase, nodeBase, RUNC_REPO, type Built } from "./lib/stages.ts";
import { gitSource } from "./buildkit2.ts";
import { posix } from "node:path";

const PREFIX = "/usr/local/bin";
const LOCAL_EXCLUDES = ["node_modules", "dist", "bin", "*.o"];

function source(name: "buildkit" | "runc" | "containerd", repo: string, version: string): State {
  return version === "local" ? local(`${name}-src`, { excludePatterns: LOCAL_EXCLUDES }) : gitSource(repo, version);
}

/** One layer holding only a component's artifacts, under PREFIX. */
function prefixed(built: Built, artifacts: readonly string[], name: string): State {
  let layer = scratch();
  for (const a of artifacts) {
    layer = layer.file(copy(built.state, posix.join(built.root, a), `${PREFIX}/`, { createDestPath: true }), { name: `${name}: ${posix.basename(a)}` });
  }
  return layer;
}

export const buildkit4: Example = {
  name: "buildkit4",
  summary: "the runtime image as a merge of per-component layers (merge op)",
  allowsLocal: true,
  build(o: ExampleOptions): State {
    const c = COMPONENTS;
    const buildkit = buildMounted(nodeBase(o), source("buildkit", o.buildkitRepo, o.buildkit), c.buildkit.dir, buildkitBuildCommand(o), "build buildkit");
    const runc = buildMounted(goBase(o), source("runc", RUNC_REPO, o.runc), c.runc.dir, c.runc.build, "build runc");
    const layers = [image(o.runtimeImage), prefixed(buildkit, c.buildkit.artifacts, "buildkit"), prefixed(runc, c.runc.artifacts, "runc")];
    if (o.target === "containerd") {
      const containerd = buildMounted(goBase(o), source("containerd", CONTAINERD_REPO, o.containerd), c.containerd.dir, c.containerd.build, "build containerd");
      layers.push(prefixed(containerd, c.containerd.artifacts, "containerd"));
    }
    return merge(layers);
  },
};

if (import.meta.main) await runExample(buildkit4);
