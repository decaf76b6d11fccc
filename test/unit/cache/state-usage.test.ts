import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planPrune } from "../../../src/core/cache/prune.ts";
import { recordType } from "../../../src/core/cache/usage.ts";
import { pruneTraces, traceRecords, TRACES_KEPT } from "../../../src/core/cache/state-usage.ts";

let root = "";
afterEach(() => rmSync(root, { recursive: true, force: true }));

function traces(n: number): string[] {
  root = mkdtempSync(join(tmpdir(), "bk-traces-"));
  mkdirSync(join(root, "traces"));
  const names = Array.from({ length: n }, (_, i) => `2026-01-01T00${String(i).padStart(4, "0")}.000Z-${100 + i}.jsonl`);
  for (const name of names) writeFileSync(join(root, "traces", name), '{"type":"trace"}\n');
  return names;
}

describe("traces in the state", () => {
  test("are du records of type trace", async () => {
    const names = traces(3);
    const rs = await traceRecords(root);
    expect(rs.map((r) => [r.id, r.type, r.inUse])).toEqual(names.map((n) => [n, "trace", false]));
    expect(rs.every((r) => r.size > 0)).toBe(true);
  });

  test("a prune keeps the newest 50; keep 0 (prune --all) removes them all", async () => {
    const names = traces(TRACES_KEPT + 5);
    expect(TRACES_KEPT).toBe(50);
    const r = await pruneTraces(root, TRACES_KEPT);
    expect(r.count).toBe(5);
    expect(readdirSync(join(root, "traces")).sort()).toEqual(names.slice(5));
    await pruneTraces(root, 0);
    expect(readdirSync(join(root, "traces"))).toEqual([]);
  });

  test("the prune policies never pick them", async () => {
    traces(2);
    const rs = await traceRecords(root);
    expect(planPrune(rs, { all: true }, Date.now())).toEqual([]);
  });
});

describe("record types", () => {
  test("come from the source's scheme in the kind, whatever the vertex is called", () => {
    expect(recordType({ kind: "source.local", description: "[internal] load build context" })).toBe("source.local");
    expect(recordType({ kind: "source.git", description: "[builder 1/3] clone" })).toBe("source.git.checkout");
    expect(recordType({ kind: "source.docker-image", description: "local://lookalike" })).toBe("regular");
    expect(recordType({ kind: "exec", description: "local://x" })).toBe("regular");
    // Records saved before kinds carried the scheme: their description, when it is the identifier.
    expect(recordType({ kind: "source", description: "local://context" })).toBe("source.local");
    expect(recordType({ kind: "source", description: "git://example.test/repo" })).toBe("source.git.checkout");
    expect(recordType({ kind: "source", description: "docker-image://busybox" })).toBe("regular");
  });
});
