// COPY that keeps metadata links files to its (committed) source instead of copying them; no later
// step, exec or file action, may change the snapshot the links came from.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copy, local, mkfile, rm, scratch } from "../../../src/core/llb/index.ts";
import { createOverlaySnapshotter } from "../../../src/backends/standalone/snapshotter.ts";
import { openCacheStore } from "../../../src/core/cache/store.ts";
import { statePath } from "../../../src/core/worker/storage.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "./harness.ts";

const run = requireIntegration("hard-link integration tests", { runc: true, busybox: true });
let h: BuildHarness;
beforeAll(() => {
  if (run) h = new BuildHarness();
});
afterAll(() => h?.cleanup());

const sh = (script: string) => ({ args: ["sh", "-c", script] });

/** Every snapshot's copy of /data: [content, mode, link count]. */
function snapshotCopies(): [string, number, number][] {
  const dir = join(h.root, "snapshots");
  return readdirSync(dir)
    .map((id) => join(dir, id, "fs", "data"))
    .flatMap((p) => {
      try {
        const st = statSync(p);
        return [[readFileSync(p, "utf8"), st.mode & 0o7777, st.nlink] as [string, number, number]];
      } catch {
        return [];
      }
    });
}

/**
 * [description, size] of every result whose size the cache index holds, after checking each
 * against a disk-usage walk of its snapshot (sizes counted while copying must equal it).
 */
async function recordedSizes(): Promise<[string, number][]> {
  const store = openCacheStore(statePath(h.root, "cacheIndex"));
  const snapshots = await createOverlaySnapshotter({ root: h.root });
  try {
    const out: [string, number][] = [];
    for (const r of store.list()) {
      if (r.size === undefined || (await snapshots.stat(r.id)) === undefined) continue;
      expect([r.description, r.size]).toEqual([r.description, (await snapshots.usage(r.id)).size]);
      out.push([r.description, r.size]);
    }
    return out;
  } finally {
    store.close();
    await snapshots.close();
  }
}

describe.skipIf(!run)("hard-linked copies", () => {
  test("later execs and file actions never change the source snapshot", async () => {
    const ctx = h.temp("ctx");
    writeFileSync(join(ctx, "data"), "orig\n", { mode: 0o644 });
    // (not "/" to "/": a whole-tree copy onto scratch is its source itself, see whole-copy.test.ts)
    const linked = scratch().file(copy(local("ctx"), "/data", "/data"));
    const first = await h.build(linked, [], { locals: { ctx } });
    expect(first.code).toBe(0);
    // The local source's snapshot and the copy share one inode.
    expect(snapshotCopies().some(([, , nlink]) => nlink >= 2)).toBe(true);

    const out = h.temp("out");
    const steps = [
      // an exec writing and chmodding the file through a writable mount of the linked snapshot
      h.base().run({ ...sh("echo exec >> /b/data; chmod 600 /b/data"), mounts: [{ dest: "/b", source: linked }] }).getMount("/b")!,
      // one file op: the copy's result handed on in place to a mkfile over the path
      scratch().file(copy(local("ctx"), "/data", "/data").mkfile("/data", 0o600, "mkfile\n")),
      // file actions on top of the linked snapshot
      linked.file(mkfile("/data", 0o600, "mkfile2\n")),
      linked.file(rm("/data")),
      linked.file(copy(linked, "/data", "/data", { mode: 0o600, owner: { user: 1, group: 1 } })),
      linked.file(copy(local("ctx"), "/data", "/data", { mode: "u+x" })),
    ];
    for (const step of steps) {
      const r = await h.build(step, ["--output", `type=local,dest=${out}`], { locals: { ctx } });
      if (r.code !== 0) console.log(r.stderr);
      expect(r.code).toBe(0);
    }
    // The source snapshot and the linked copy still read "orig" with mode 644.
    const check = h.temp("check");
    const again = await h.build(linked, ["--output", `type=local,dest=${check}`], { locals: { ctx } });
    expect(again.code).toBe(0);
    expect(readFileSync(join(check, "data"), "utf8")).toBe("orig\n");
    expect(statSync(join(check, "data")).mode & 0o7777).toBe(0o644);
    const shared = snapshotCopies().filter(([, , nlink]) => nlink >= 2);
    expect(shared.length).toBeGreaterThanOrEqual(2);
    expect(shared.every(([content, mode]) => content === "orig\n" && mode === 0o644)).toBe(true);
    // The linked COPY's size was counted while copying too.
    expect((await recordedSizes()).some(([description]) => description.startsWith("copy"))).toBe(true);
  });

  test("incremental local source: a changed file is written anew, unchanged ones linked, earlier results intact", async () => {
    const ctx = h.temp("inc");
    writeFileSync(join(ctx, "inc-data"), "v1\n");
    writeFileSync(join(ctx, "inc-other"), "same\n");
    await Bun.sleep(50); // out of the racy window
    const out = h.temp("out");
    const step = h.base().run({ ...sh("cat /in/inc-data /in/inc-other > /out/seen; echo exec >> /in/inc-data"), mounts: [{ dest: "/in", source: local("inc") }, { dest: "/out", source: scratch() }] }).getMount("/out")!;
    const r1 = await h.build(step, ["--output", `type=local,dest=${out}`], { locals: { inc: ctx } });
    expect(r1.code).toBe(0);
    expect(readFileSync(join(out, "seen"), "utf8")).toBe("v1\nsame\n");
    writeFileSync(join(ctx, "inc-data"), "v2\n");
    const r2 = await h.build(step, ["--output", `type=local,dest=${out}`], { locals: { inc: ctx } });
    expect(r2.code).toBe(0);
    expect(readFileSync(join(out, "seen"), "utf8")).toBe("v2\nsame\n");
    // Both local snapshots are still there as made: "inc-other" shared, "inc-data" one each.
    const dir = join(h.root, "snapshots");
    const copies = (name: string) =>
      readdirSync(dir).flatMap((id) => {
        try {
          const p = join(dir, id, "fs", name);
          return [{ text: readFileSync(p, "utf8"), ino: statSync(p).ino }];
        } catch {
          return [];
        }
      });
    // (the exec's own writable layers hold its copied-up "…exec" versions)
    expect(copies("inc-data").map((c) => c.text).filter((t) => !t.includes("exec")).sort()).toEqual(["v1\n", "v2\n"]);
    const others = copies("inc-other");
    expect(others.length).toBe(2);
    expect(others[0]!.ino).toBe(others[1]!.ino);
    // Each local snapshot's size was counted while copying: what a disk-usage walk finds.
    const sizes = await recordedSizes();
    expect(sizes.filter(([description]) => description.startsWith("local://inc")).length).toBe(2);
  });
});
