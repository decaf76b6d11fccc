// The shared Executor suite on containerd: containers and tasks through the runc v2 shim.
import { afterAll, beforeAll, expect } from "bun:test";
import { describeExecutor } from "../../conformance/executor.ts";
import { ContainerdHarness, shouldRun } from "./harness.ts";

const run = shouldRun("containerd executor conformance");
const h = new ContainerdHarness();
beforeAll(async () => {
  if (run) await h.start();
}, 30_000);
afterAll(() => h.stop());

if (run) {
  describeExecutor("containerd", async () => {
    const worker = await h.openWorker();
    return {
      worker,
      async cleanup() {
        await worker.close();
        expect(await h.leftovers()).toEqual([]);
        expect(await h.dropLeases()).toEqual([]);
      },
    };
  });
}
