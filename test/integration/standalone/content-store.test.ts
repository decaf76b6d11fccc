// The shared ContentStore suite against the standalone worker's files.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "bun:test";
import { LocalContentStore } from "../../../src/backends/standalone/content-store.ts";
import { describeContentStore } from "../../conformance/content-store.ts";

describeContentStore("standalone (files)", async () => {
  const root = mkdtempSync(join(tmpdir(), "bk-content-"));
  return {
    content: new LocalContentStore(root),
    async cleanup() {
      // No temporary file is left behind.
      const blobs = join(root, "content", "blobs", "sha256");
      if (existsSync(blobs)) expect(readdirSync(blobs, { withFileTypes: true }).filter((e) => e.name.startsWith(".tmp-")).map((e) => e.name)).toEqual([]);
      rmSync(root, { recursive: true, force: true });
    },
  };
});
