// The clean-close stamp: a worker that closes leaving nothing behind lets the next open skip its
// start-up sweeps; one that leaves something (or dies) does not, and the next open sweeps.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStandaloneWorker } from "../../../src/backends/standalone/index.ts";
import { sha256 } from "../../../src/core/digest.ts";

const run = process.platform === "linux" && process.getuid?.() === 0;
if (!run && process.env.CI === "true") throw new Error("CI=true, so a skip is a failure: the standalone worker needs Linux and root");

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "bk-clean-close-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const stamp = () => existsSync(join(root, "closed-cleanly"));
const open = () => createStandaloneWorker({ root });
const NOTHING = { mounts: 0, snapshots: 0, orphans: 0, tempBlobs: 0, containers: 0, bundles: 0 };

describe.skipIf(!run)("clean-close stamp", () => {
  test("a clean close leaves the stamp; the next open takes it at once and skips the sweeps", async () => {
    await (await open()).close();
    expect(stamp()).toBe(true);
    // Planted after a clean close: a clean close vouches for its own leftovers only.
    mkdirSync(join(root, "snapshots", "999999"));
    const second = await open();
    expect(stamp()).toBe(false); // a crash from here on leaves no stamp
    expect(second.swept).toEqual(NOTHING);
    expect(existsSync(join(root, "snapshots", "999999"))).toBe(true);
    await second.close();
  });

  test("fullSweep (prune, du, serve) sweeps after a clean close too, and takes the stamp", async () => {
    await (await open()).close();
    mkdirSync(join(root, "snapshots", "999999"));
    const worker = await createStandaloneWorker({ root, fullSweep: true });
    expect(stamp()).toBe(false);
    expect(worker.swept.orphans).toBe(1);
    await worker.close();
    expect(stamp()).toBe(true);
  });

  test("without the stamp (a process that died) the open sweeps", async () => {
    await (await open()).close();
    rmSync(join(root, "closed-cleanly"));
    mkdirSync(join(root, "snapshots", "999999"));
    const worker = await open();
    expect(worker.swept.orphans).toBe(1);
    expect(existsSync(join(root, "snapshots", "999999"))).toBe(false);
    await worker.close();
  });

  test("an active snapshot left at close: no stamp, and the next open drops it", async () => {
    const first = await open();
    await first.snapshotter.prepare("left-active");
    await first.close();
    expect(stamp()).toBe(false);
    const second = await open();
    expect(second.swept.snapshots).toBe(1);
    await second.close();
    expect(stamp()).toBe(true);
  });

  test("a blob write still open at close: no stamp", async () => {
    const first = await open();
    const writer = await first.content.writer();
    await writer.write(new TextEncoder().encode("x"));
    await first.close();
    expect(stamp()).toBe(false);
    await writer.abort();
    const second = await open();
    await second.close();
    expect(stamp()).toBe(true);
  });

  test("a finished blob write leaves the stamp", async () => {
    const first = await open();
    const writer = await first.content.writer();
    const data = new TextEncoder().encode("x");
    await writer.write(data);
    await writer.commit({ digest: sha256(data), size: data.byteLength });
    await first.close();
    expect(stamp()).toBe(true);
  });

  test("something left in the mount directory: no stamp", async () => {
    const first = await open();
    mkdirSync(join(root, "mnt", "stale"));
    await first.close();
    expect(stamp()).toBe(false);
  });
});
