// A long-lived engine (serve's) with BuildKit's throttled GC: a build within the quiet minute
// after a collection puts its own off until the minute is over; close() drops what is put off.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStandaloneWorker } from "../../../src/backends/standalone/index.ts";
import { GC_QUIET_MS, gcStampPath } from "../../../src/core/cache/gc-due.ts";
import { createEngine } from "../../../src/core/engine/index.ts";
import { LINUX_AMD64, mkfile, scratch } from "../../../src/core/llb/index.ts";
import { EMPTY_SESSION } from "../../../src/core/session/session.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";

const run = requireIntegration("deferred GC tests", {});
const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

async function openEngine() {
  const root = mkdtempSync(join(tmpdir(), "buildkit-deferred-gc-"));
  roots.push(root);
  const worker = await createStandaloneWorker({ root });
  const engine = createEngine({ worker, config: { registry: async () => Promise.reject(new Error("no registry in this test")) } });
  const build = (name: string) =>
    engine.solve(
      { definition: scratch().file(mkfile(`/${name}`, 0o644, name)).marshal({ platform: LINUX_AMD64 }) },
      { session: EMPTY_SESSION, progress: { write: () => {}, close: async () => {} }, signal: new AbortController().signal },
    );
  /** A collection that ran `ago` ms before now. */
  const stampAgo = (ago: number) => {
    writeFileSync(gcStampPath(root), "");
    const t = new Date(Date.now() - ago);
    utimesSync(gcStampPath(root), t, t);
    return statSync(gcStampPath(root)).mtimeMs;
  };
  return { root, engine, build, stampAgo };
}

describe.skipIf(!run)("deferred GC in a long-lived engine", () => {
  test("a build that made something within the quiet minute is collected once the minute is over", async () => {
    const e = await openEngine();
    try {
      const before = e.stampAgo(GC_QUIET_MS - 400);
      expect((await e.build("a")).executed).toBe(1);
      expect(statSync(gcStampPath(e.root)).mtimeMs).toBe(before); // not yet
      for (const deadline = Date.now() + 5_000; statSync(gcStampPath(e.root)).mtimeMs === before && Date.now() < deadline; ) await Bun.sleep(50);
      expect(statSync(gcStampPath(e.root)).mtimeMs).toBeGreaterThan(before);
    } finally {
      await e.engine.close();
    }
  });

  test("close() drops a collection put off, and returns at once", async () => {
    const e = await openEngine();
    const before = e.stampAgo(1000);
    expect((await e.build("b")).executed).toBe(1);
    const started = Date.now();
    await e.engine.close();
    expect(Date.now() - started).toBeLessThan(GC_QUIET_MS / 2); // not held open by the timer
    await Bun.sleep(200);
    expect(statSync(gcStampPath(e.root)).mtimeMs).toBe(before);
  });
});
