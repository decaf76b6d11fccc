// Cleanup for gRPC tests: whatever a test starts is registered here and closed after it,
// even when the test fails. Each test file calls `afterEach(cleanup)` itself: a hook set up
// here would run only for the first file that imports this module.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const cleanups: Array<() => unknown> = [];

/** Runs and forgets every registered cleanup, last registered first. */
export async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch {
      // cleanup is best effort; the test's own assertion says what failed
    }
  }
}

/** Runs fn after the current test. */
export function defer(fn: () => unknown): void {
  cleanups.push(fn);
}

/** A temp dir removed after the current test. */
export function tempDir(prefix = "grpc-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Registers something with close() for cleanup and returns it. */
export function closing<T extends { close(): Promise<void> }>(thing: T): T {
  defer(() => thing.close());
  return thing;
}
