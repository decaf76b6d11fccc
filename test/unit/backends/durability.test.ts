// The standalone worker's end-of-work sync (durability.ts) with a recording snapshotter and a
// real content store in a temporary directory; syncfs is counted, not made. No root needed.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalContentStore } from "../../../src/backends/standalone/content-store.ts";
import { createDurability } from "../../../src/backends/standalone/durability.ts";
import type { Digest } from "../../../src/core/digest.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(opts: { failSync?: boolean } = {}) {
  const root = mkdtempSync(join(tmpdir(), "buildkit-durability-"));
  dirs.push(root);
  const state = { unsynced: [] as number[], marked: [] as number[][], synced: [] as string[] };
  const durability = createDurability({
    paths: [root, join(root, "snapshots"), join(root, "content")],
    snapshotter: {
      unsynced: () => [...state.unsynced],
      markDurable: (ids) => {
        state.marked.push([...ids]);
        state.unsynced = state.unsynced.filter((id) => !ids.includes(id));
      },
    },
    content: new LocalContentStore(root),
    syncfs: (path) => {
      if (opts.failSync) throw Object.assign(new Error("syncing the filesystem of x: EIO"), { code: "EIO" });
      state.synced.push(path);
    },
  });
  return { root, state, durability };
}

async function storeBlob(content: ReturnType<typeof setup>["durability"]["content"], text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  const writer = await content.writer();
  await writer.write(bytes);
  await writer.commit({ digest: `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}` as Digest, size: bytes.length });
}

describe("standalone durability", () => {
  test("nothing written: no syncfs", async () => {
    const { state, durability } = setup();
    await durability.sync();
    expect(state.synced).toEqual([]);
    expect(state.marked).toEqual([]);
  });

  test("unsynced snapshots: one syncfs per filesystem, then the ids read before it are marked durable", async () => {
    const { root, state, durability } = setup();
    state.unsynced = [3, 5];
    await durability.sync();
    expect(state.synced).toEqual([root]); // snapshots/ and content/ do not exist yet; one device anyway
    expect(state.marked).toEqual([[3, 5]]);
    await durability.sync();
    expect(state.synced.length).toBe(1);
  });

  test("a committed blob makes the next sync run once; an aborted one does not", async () => {
    const { state, durability } = setup();
    const aborted = await durability.content.writer();
    await aborted.write(new Uint8Array([1]));
    await aborted.abort();
    await durability.sync();
    expect(state.synced.length).toBe(0);
    await storeBlob(durability.content, "layer");
    await durability.sync();
    await durability.sync();
    expect(state.synced.length).toBe(1);
    expect(state.marked).toEqual([[]]);
  });

  test("a failed syncfs fails with context and the next sync tries again", async () => {
    const failing = setup({ failSync: true });
    // A blob only: the second attempt runs because the failure kept the "written" flag.
    await storeBlob(failing.durability.content, "blob");
    await expect(failing.durability.sync()).rejects.toThrow("syncing the build's results to disk: syncing the filesystem of x: EIO");
    expect(failing.state.marked).toEqual([]);
    await expect(failing.durability.sync()).rejects.toThrow("EIO");
  });
});
