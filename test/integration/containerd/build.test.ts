// The whole-worker build suite on containerd, daemonless (`buildkit build --worker containerd`).
import { afterAll, beforeAll } from "bun:test";
import { describeWorkerBuild } from "../../conformance/worker-build.ts";
import { BuildHarness } from "../build/harness.ts";
import { ContainerdHarness, NAMESPACE, shouldRun } from "./harness.ts";

const run = shouldRun("containerd worker build suite");
const h = new ContainerdHarness();
let build: BuildHarness;
beforeAll(async () => {
  if (!run) return;
  await h.start();
  build = new BuildHarness();
}, 60_000);
afterAll(() => h.stop());

if (run) {
  describeWorkerBuild("containerd", () => ({
    harness: build,
    workerArgs: ["--worker", "containerd", "--containerd-address", h.containerd.address, "--containerd-namespace", NAMESPACE],
    leftovers: () => h.leftovers(),
    imageNames: async () => h.containerd.ctr(["images", "ls", "-q"]).trim().split("\n").filter(Boolean),
  }));
}
