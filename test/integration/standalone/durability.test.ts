// Durable at the end of work (src/backends/standalone/durability.ts): one syncfs when a build
// wrote something and none when it did not, and, after the machine went down before that
// sync (simulated by rewriting the stored boot id), the unsynced snapshots and the cache
// records that named them are gone; within the same boot (a process crash) they are kept.
// Real overlayfs and syncfs(2); needs root.
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { currentBootId } from "../../../src/backends/standalone/boot-id.ts";
import { createStandaloneWorker } from "../../../src/backends/standalone/index.ts";
import { createOverlaySnapshotter, type OverlaySnapshotter } from "../../../src/backends/standalone/snapshotter.ts";
import { withMounted } from "../../../src/backends/standalone/sys/mount.ts";
import { syncFilesystem } from "../../../src/backends/standalone/sys/syncfs.ts";
import { createEngine } from "../../../src/core/engine/index.ts";
import { LINUX_AMD64, mkfile, scratch } from "../../../src/core/llb/index.ts";
import { EMPTY_SESSION } from "../../../src/core/session/session.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";

const run = requireIntegration("standalone durability tests", {});
const OTHER_BOOT = "00000000-0000-0000-0000-000000000000";

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});
function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "buildkit-durable-"));
  roots.push(root);
  return root;
}

/** Runs sql on the snapshots database, as a machine crash or an older version would have left it. */
function alterSnapshots(root: string, sql: string): void {
  const db = new Database(join(root, "snapshots", "metadata.db"));
  try {
    db.run(sql);
  } finally {
    db.close();
  }
}

function snapshotRows(root: string): { name: string; durable: number; bootId: string | null }[] {
  const db = new Database(join(root, "snapshots", "metadata.db"), { readonly: true });
  try {
    return db.query<{ name: string; durable: number; bootId: string | null }, []>("SELECT name, durable, boot_id AS bootId FROM snapshots ORDER BY id").all();
  } finally {
    db.close();
  }
}

async function commitLayer(s: OverlaySnapshotter, name: string, parent: string | undefined): Promise<void> {
  await withMounted(await s.prepare(`${name}-key`, parent), (dir) => writeFile(join(dir, name), name));
  await s.commit(name, `${name}-key`);
}

/** A snapshotter with base and child committed and never synced (its close does not sync). */
async function unsyncedChain(root: string): Promise<void> {
  const s = await createOverlaySnapshotter({ root });
  await commitLayer(s, "base", undefined);
  await commitLayer(s, "child", "base");
  await s.close();
}

async function reopen(root: string): Promise<{ s: OverlaySnapshotter; warnings: string[] }> {
  const warnings: string[] = [];
  const s = await createOverlaySnapshotter({ root, warn: (line) => void warnings.push(line) });
  return { s, warnings };
}

/** A worker and engine on root whose syncfs calls are counted (and made). */
async function openEngine(root: string, warnings: string[] = []) {
  const synced: string[] = [];
  const worker = await createStandaloneWorker({
    root,
    syncfs: (path) => {
      synced.push(path);
      syncFilesystem(path);
    },
  });
  const engine = createEngine({ worker, config: { registry: async () => Promise.reject(new Error("no registry in this test")) } });
  const build = async (definition: Uint8Array) =>
    engine.solve({ definition }, { session: EMPTY_SESSION, progress: { write: () => {}, close: async () => {} }, signal: new AbortController().signal });
  return { engine, synced, build, warnings };
}

const twoSteps = () => scratch().file(mkfile("/a", 0o644, "a")).file(mkfile("/b", 0o644, "b")).marshal({ platform: LINUX_AMD64 });

describe.skipIf(!run)("standalone durability", () => {
  test("a build that wrote syncs once before it returns; a fully cached build and close do not sync", async () => {
    const root = tempRoot();
    const e = await openEngine(root);
    try {
      expect((await e.build(twoSteps())).executed).toBe(2);
      expect(e.synced).toEqual([root]); // one filesystem here: one syncfs
      expect(snapshotRows(root).map((r) => r.durable)).toEqual([1, 1]);
      expect((await e.build(twoSteps())).executed).toBe(0);
      expect(e.synced.length).toBe(1);
    } finally {
      await e.engine.close();
    }
    expect(e.synced.length).toBe(1);
  });

  test("unsynced snapshots of an earlier boot are dropped at open with what is stacked on them, with one warning", async () => {
    const root = tempRoot();
    await unsyncedChain(root);
    expect(snapshotRows(root).map((r) => [r.name, r.durable, r.bootId])).toEqual([["base", 0, currentBootId()], ["child", 0, currentBootId()]]);
    alterSnapshots(root, `UPDATE snapshots SET boot_id = '${OTHER_BOOT}' WHERE name = 'base'`);
    const { s, warnings } = await reopen(root);
    try {
      expect(s.lost.dropped).toBe(2);
      expect(await s.stat("base")).toBeUndefined();
      expect(await s.stat("child")).toBeUndefined();
      expect(await s.list()).toEqual([]);
      expect(warnings.length).toBe(1);
      expect(warnings[0]).toContain("2 cached snapshots written before the machine went down had not been synced to disk");
    } finally {
      await s.close();
    }
    expect(existsSync(join(root, "snapshots", "1"))).toBe(false);
    expect(existsSync(join(root, "snapshots", "2"))).toBe(false);
  });

  test("within the same boot (a process crash) unsynced snapshots are kept", async () => {
    const root = tempRoot();
    await unsyncedChain(root);
    const { s, warnings } = await reopen(root);
    try {
      expect(s.lost.dropped).toBe(0);
      expect((await s.stat("child"))?.parent).toBe("base");
      expect(s.unsynced().length).toBe(2);
      expect(warnings).toEqual([]);
    } finally {
      await s.close();
    }
  });

  test("once synced, snapshots are kept across a boot id change", async () => {
    const root = tempRoot();
    await unsyncedChain(root);
    const first = await reopen(root);
    first.s.markDurable(first.s.unsynced());
    await first.s.close();
    alterSnapshots(root, `UPDATE snapshots SET boot_id = '${OTHER_BOOT}'`);
    const { s, warnings } = await reopen(root);
    try {
      expect((await s.list()).map((i) => i.name).sort()).toEqual(["base", "child"]);
      expect(s.unsynced()).toEqual([]);
      expect(warnings).toEqual([]);
    } finally {
      await s.close();
    }
  });

  test("after a machine crash before the sync, the cache records miss and the steps run again", async () => {
    const root = tempRoot();
    const first = await openEngine(root);
    await first.build(twoSteps());
    await first.engine.close();
    // As if the machine had gone down between the commits and the sync.
    alterSnapshots(root, `UPDATE snapshots SET durable = 0, boot_id = '${OTHER_BOOT}'`);
    const stderr: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true)) as typeof process.stderr.write;
    let second: Awaited<ReturnType<typeof openEngine>>;
    try {
      second = await openEngine(root);
    } finally {
      process.stderr.write = write;
    }
    try {
      expect(stderr.filter((l) => l.includes("had not been synced to disk")).length).toBe(1);
      expect((await second.build(twoSteps())).executed).toBe(2);
      expect(second.synced.length).toBe(1);
      expect(snapshotRows(root).map((r) => r.durable)).toEqual([1, 1]);
    } finally {
      await second.engine.close();
    }
  });

  test("after a process crash in the same boot, the cached build keeps the results and syncs them once", async () => {
    const root = tempRoot();
    const first = await openEngine(root);
    await first.build(twoSteps());
    await first.engine.close();
    alterSnapshots(root, "UPDATE snapshots SET durable = 0");
    const second = await openEngine(root);
    try {
      expect((await second.build(twoSteps())).executed).toBe(0);
      expect(second.synced.length).toBe(1);
      expect(snapshotRows(root).map((r) => r.durable)).toEqual([1, 1]);
    } finally {
      await second.engine.close();
    }
  });

  test("a flattened copy of a long chain is synced before it is renamed into place", async () => {
    const root = tempRoot();
    const synced: string[] = [];
    const s = await createOverlaySnapshotter({ root, maxLowers: 2, syncfs: (path) => void synced.push(path) });
    try {
      await commitLayer(s, "l1", undefined);
      await commitLayer(s, "l2", "l1");
      await commitLayer(s, "l3", "l2");
      await s.prepare("top", "l3");
      expect(synced).toContain(join(root, "snapshots", "3", "flat.tmp"));
      for (const temp of synced) {
        expect(temp.endsWith("/flat.tmp")).toBe(true);
        expect(existsSync(temp.slice(0, -".tmp".length))).toBe(true);
      }
      await s.remove("top");
    } finally {
      await s.close();
    }
  });

  test("a database made before the durability columns is migrated, its snapshots durable", async () => {
    const root = tempRoot();
    const s = await createOverlaySnapshotter({ root });
    await commitLayer(s, "old", undefined);
    await s.close();
    // Back to the old schema: the table without durable and boot_id, no version recorded.
    alterSnapshots(
      root,
      `DROP INDEX snapshots_unsynced; ALTER TABLE snapshots DROP COLUMN durable; ALTER TABLE snapshots DROP COLUMN boot_id; PRAGMA user_version = 0;`,
    );
    const { s: again, warnings } = await reopen(root);
    try {
      expect((await again.stat("old"))?.kind).toBe("committed");
      expect(again.unsynced()).toEqual([]);
      expect(warnings).toEqual([]);
    } finally {
      await again.close();
    }
    expect(snapshotRows(root)).toEqual([{ name: "old", durable: 1, bootId: null }]);
  });

  test("a database from a newer version is refused rather than misread", async () => {
    const root = tempRoot();
    await (await createOverlaySnapshotter({ root })).close();
    alterSnapshots(root, "PRAGMA user_version = 99");
    expect(createOverlaySnapshotter({ root })).rejects.toThrow(/schema version 99 is newer/);
  });
});
