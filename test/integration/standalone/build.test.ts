// The whole-worker build suite on the standalone worker.
import { describeWorkerBuild } from "../../conformance/worker-build.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "../build/harness.ts";

if (requireIntegration("standalone worker build suite", { runc: true, busybox: true })) {
  const build = new BuildHarness();
  describeWorkerBuild("standalone", () => ({
    harness: build,
    workerArgs: ["--worker", "standalone"],
    leftovers: async () => build.leftoverMounts().map((m) => `mount ${m}`),
    imageNames: async () => [],
  }));
}
