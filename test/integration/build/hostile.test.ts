// Definitions built to hurt: huge indexes, very long chains, very wide merges. Each must
// either build or fail fast with one line naming the op.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "../../../src/core/digest.ts";
import { merge, mkfile, rm, scratch, type State } from "../../../src/core/llb/index.ts";
import { pb } from "../../../src/core/pb/index.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "./harness.ts";

const run = requireIntegration("hostile definition tests", { runc: true, busybox: true });
let h: BuildHarness;
beforeAll(() => {
  if (run) h = new BuildHarness();
});
afterAll(() => h?.cleanup(), 120_000); // a thousand snapshots take a while to delete

const enc = (op: pb.Op.$Properties): Uint8Array => pb.Op.encode(op).finish();

describe.skipIf(!run)("hostile definitions", () => {
  test("an output index of 2147483647 fails at once with one line naming the op", async () => {
    const src = enc({ source: { identifier: "local://rootfs" } });
    const file = enc({ inputs: [{ digest: sha256(src) }], file: { actions: [{ input: 0, secondaryInput: -1, output: 2147483647, mkfile: { path: "/x", mode: 0o644 } }] } });
    const def = pb.Definition.encode({ def: [src, file, enc({ inputs: [{ digest: sha256(file) }] })] }).finish();
    const started = performance.now();
    const r = await h.build(def);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: invalid definition: file op ${sha256(file).slice(0, 19)} action 0 output 2147483647 is out of range [-1, 0]\n`);
    expect(h.leftoverMounts()).toEqual([]);
  });

  test("a chain of 1,000 ops builds past overlayfs's layer limit", async () => {
    let s: State = scratch();
    for (let i = 0; i < 1000; i++) s = s.file(i % 100 === 99 ? rm(`/f${i - 50}`) : mkfile(`/f${i}`, 0o644, `${i}\n`));
    const out = h.temp("chain");
    const r = await h.build(s, ["--output", `type=local,dest=${out}`]);
    expect(r.stderr.split("\n").filter((l) => l.startsWith("error"))).toEqual([]);
    expect(r.code).toBe(0);
    const files = readdirSync(out);
    expect(files.length).toBe(980); // 10 rm steps: 10 files never made, 10 removed
    expect(files).not.toContain("f49");
    expect(files).toContain("f48");
    expect(readFileSync(join(out, "f998"), "utf8")).toBe("998\n");
    // A step on top of the long chain still mounts (and so runs) fine.
    const more = await h.build(s.file(mkfile("/top", 0o644, "top")), ["--output", `type=local,dest=${out}`]);
    expect(more.code).toBe(0);
    expect(readFileSync(join(out, "top"), "utf8")).toBe("top");
    expect(h.leftoverMounts()).toEqual([]);
  }, 300_000);

  test("a merge of 200 inputs", async () => {
    const inputs = Array.from({ length: 200 }, (_, i) => scratch().file(mkfile(`/m${i}`, 0o644, `${i}`)));
    const out = h.temp("merge");
    const r = await h.build(merge(inputs), ["--output", `type=local,dest=${out}`]);
    expect(r.code).toBe(0);
    expect(readdirSync(out).length).toBe(200);
    const mergeStep = r.trace().find((e) => e.type === "vertex" && e.completed && String(e.name).startsWith("merge"));
    console.log(`merge of 200 inputs: ${Number(mergeStep?.completed) - Number(mergeStep?.started)} ms`);
  }, 300_000);
});
