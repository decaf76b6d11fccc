// COPY that keeps metadata links files to its (committed) source instead of copying them; no later
// step, exec or file action, may change the snapshot the links came from.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copy, local, mkfile, rm, scratch } from "../../../src/core/llb/index.ts";
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

describe.skipIf(!run)("hard-linked copies", () => {
  test("later execs and file actions never change the source snapshot", async () => {
    const ctx = h.temp("ctx");
    writeFileSync(join(ctx, "data"), "orig\n", { mode: 0o644 });
    const linked = scratch().file(copy(local("ctx"), "/", "/"));
    const first = await h.build(linked, [], { locals: { ctx } });
    expect(first.code).toBe(0);
    // The local source's snapshot and the copy share one inode.
    expect(snapshotCopies().some(([, , nlink]) => nlink >= 2)).toBe(true);

    const out = h.temp("out");
    const steps = [
      // an exec writing and chmodding the file through a writable mount of the linked snapshot
      h.base().run({ ...sh("echo exec >> /b/data; chmod 600 /b/data"), mounts: [{ dest: "/b", source: linked }] }).getMount("/b")!,
      // one file op: the copy's result handed on in place to a mkfile over the path
      scratch().file(copy(local("ctx"), "/", "/").mkfile("/data", 0o600, "mkfile\n")),
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
  });
});
