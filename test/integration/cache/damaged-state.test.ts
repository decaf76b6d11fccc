// A state root damaged behind our back heals or says where it is broken: a deleted snapshot
// directory is rebuilt, a corrupt database is moved aside with a warning, a file where a
// directory belongs is named.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mkfile, scratch } from "../../../src/core/llb/index.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness } from "../build/harness.ts";
import { cli } from "./cli.ts";

const run = requireIntegration("damaged state tests", { runc: true, busybox: true });
let h: BuildHarness;
beforeEach(() => {
  if (run) h = new BuildHarness();
});
afterEach(() => h?.cleanup());

const chain = () => scratch().file(mkfile("/a", 0o644, "a")).file(mkfile("/b", 0o644, "b")).file(mkfile("/c", 0o644, "c"));
const snapshotDirs = () => readdirSync(join(h.root, "snapshots")).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(a) - Number(b));
const warnings = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("warning:"));

describe.skipIf(!run)("damaged state", () => {
  test("a deleted snapshot directory: what depends on it is rebuilt, not a bare ENOENT", async () => {
    expect((await h.build(chain())).code).toBe(0);
    rmSync(join(h.root, "snapshots", snapshotDirs()[0] as string), { recursive: true });
    const out = h.temp("out");
    const r = await h.build(chain(), ["--output", `type=local,dest=${out}`]);
    expect(r.stderr).not.toContain("ENOENT");
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["a", "b", "c"]);
    // The chain stacked on the lost layer ran again; a third build is fully cached.
    const ran = r.trace().filter((e) => e.type === "vertex" && e.completed && String(e.name).startsWith("mkfile") && !e.cached);
    expect(ran.length).toBe(3);
    const again = await h.build(chain());
    expect(again.trace().filter((e) => e.type === "vertex" && e.completed && String(e.name).startsWith("mkfile")).every((e) => e.cached)).toBe(true);
  });

  test("a corrupt cache.db is moved aside with one warning, for build, du and prune", async () => {
    const db = join(h.root, "cache.db");
    for (const args of [["build"], ["du", "--root", h.root], ["prune", "--root", h.root, "--all"]]) {
      expect((await h.build(chain())).code).toBe(0);
      writeFileSync(db, "this is not a database, just garbage ".repeat(200));
      const r = args[0] === "build" ? await h.build(chain()) : await cli(args);
      expect(r.code).toBe(0);
      const w = warnings(r.stderr);
      expect(w.length).toBe(1);
      expect(w[0]).toMatch(new RegExp(`^warning: ${db} is damaged \\(file is not a database\\): moved to ${db}\\.corrupt-\\S+, starting with an empty one$`));
      expect(readdirSync(h.root).filter((f) => f.startsWith("cache.db.corrupt-")).length).toBeGreaterThan(0);
      rmSync(join(h.root, readdirSync(h.root).find((f) => f.startsWith("cache.db.corrupt-")) as string));
    }
  });

  test("a corrupt snapshots/metadata.db: prune --all starts clean, the next build rebuilds", async () => {
    expect((await h.build(chain())).code).toBe(0);
    writeFileSync(join(h.root, "snapshots", "metadata.db"), Buffer.alloc(8192, 0x5a));
    const prune = await cli(["prune", "--root", h.root, "--all"]);
    expect(prune.code).toBe(0);
    expect(warnings(prune.stderr)).toHaveLength(1);
    expect(snapshotDirs()).toEqual([]); // without records, every snapshot dir was an orphan
    const out = h.temp("out");
    const r = await h.build(chain(), ["--output", `type=local,dest=${out}`]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "c"), "utf8")).toBe("c");
  });

  test("a file where ROOT/mnt should be is an error naming it", async () => {
    expect((await h.build(chain())).code).toBe(0);
    rmSync(join(h.root, "mnt"), { recursive: true });
    writeFileSync(join(h.root, "mnt"), "");
    const r = await h.build(chain());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: opening state directory: ${join(h.root, "mnt")} is not a directory (move or remove it)\n`);
  });
});
