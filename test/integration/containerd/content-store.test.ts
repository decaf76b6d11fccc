// The shared ContentStore suite against containerd's content service.
import { afterAll, beforeAll, expect } from "bun:test";
import { describeContentStore } from "../../conformance/content-store.ts";
import { ContainerdHarness, shouldRun } from "./harness.ts";

const run = shouldRun("containerd content store conformance");
const h = new ContainerdHarness();
beforeAll(async () => {
  if (run) await h.start();
}, 30_000);
afterAll(() => h.stop());

if (run) {
  describeContentStore("containerd", async () => {
    const worker = await h.openWorker();
    return {
      content: worker.content,
      async cleanup() {
        await worker.close();
        expect(await h.leftovers()).toEqual([]);
        expect(await h.dropLeases()).toEqual([]);
        // Nothing ingested is left half-written.
        expect(h.containerd.ctr(["content", "active"]).trim().split("\n").slice(1)).toEqual([]);
      },
    };
  });
}
