// The shared Snapshotter suite against containerd's overlayfs snapshotter, through our client.
import { afterAll, beforeAll, expect } from "bun:test";
import { describeSnapshotter } from "../../conformance/snapshotter.ts";
import { ContainerdHarness, shouldRun } from "./harness.ts";

const run = shouldRun("containerd snapshotter conformance");
const h = new ContainerdHarness();
beforeAll(async () => {
  if (run) await h.start();
}, 30_000);
afterAll(() => h.stop());

if (run) {
  describeSnapshotter("containerd (overlayfs)", async () => {
    const worker = await h.openWorker();
    return {
      snapshotter: worker.snapshotter,
      async cleanup() {
        await worker.close();
        expect(await h.leftovers()).toEqual([]);
        expect(await h.dropLeases()).toEqual([]);
      },
    };
  });
}
