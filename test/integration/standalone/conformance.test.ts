// The shared Executor suite on the standalone worker (runc, overlayfs).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStandaloneWorker } from "../../../src/backends/standalone/index.ts";
import { describeExecutor } from "../../conformance/executor.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";

if (requireIntegration("standalone executor conformance", { runc: true, busybox: true })) {
  describeExecutor("standalone", async () => {
    const root = mkdtempSync(join(tmpdir(), "bk-sa-"));
    const worker = await createStandaloneWorker({ root });
    return {
      worker,
      async cleanup() {
        await worker.close();
        rmSync(root, { recursive: true, force: true });
      },
    };
  });
}
