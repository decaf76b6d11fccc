// The daemon's build history: what listeners see, what is kept, what a record holds.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildHistory, EVENT, decodeStatusLog } from "../../../../src/api/control/history/history.ts";
import { HistoryStore } from "../../../../src/api/control/history/store.ts";
import { BuildkitError } from "../../../../src/core/errors.ts";

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "bk-hist-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const start = (ref: string) => ({ ref, frontend: "dockerfile.v0", frontendAttrs: { target: "x" }, exporters: [{ Type: "local", Attrs: { dest: "/o" } }] });

describe("BuildHistory", () => {
  test("a record holds the build's request, outcome, steps and its progress log", () => {
    const h = new BuildHistory(temp());
    const rec = h.begin(start("r1"));
    rec.status({ vertexes: [{ digest: "sha256:a", name: "one", cached: true, completed: { seconds: 1, nanos: 0 } }, { digest: "sha256:b", name: "two" }], statuses: [], logs: [], warnings: [] });
    rec.status({ vertexes: [{ digest: "sha256:b", name: "two", completed: { seconds: 2, nanos: 0 } }], statuses: [], logs: [{ vertex: "sha256:b", stream: 1, msg: new TextEncoder().encode("hi") }], warnings: [] });
    rec.finish({ error: new BuildkitError("NotFound", "gone") });
    const replay = h.replay("r1")!;
    expect(replay.map((b) => b.vertexes.map((v) => v.name))).toEqual([["one", "two"], ["two"]]);
    expect(new TextDecoder().decode(replay[1]!.logs[0]!.msg!)).toBe("hi");
    expect(h.replay("nope")).toBeUndefined();
    h.close();
  });

  test("listeners get running builds, then records, then new events; EarlyExit stops after the records", async () => {
    const h = new BuildHistory(temp());
    h.begin(start("done")).finish({ exporterResponse: { k: "v" } });
    const running = h.begin(start("running"));
    const early: [number, string][] = [];
    await h.listen({ EarlyExit: true }, async (e) => void early.push([e.type ?? 0, e.record?.Ref ?? ""]), new AbortController().signal);
    expect(early).toEqual([[EVENT.STARTED, "running"], [EVENT.COMPLETE, "done"]]);

    const ac = new AbortController();
    const seen: string[] = [];
    const listening = h.listen({ ActiveOnly: true, Ref: "running" }, async (e) => {
      seen.push(`${e.type}:${e.record?.Ref}:${e.record?.error?.message ?? ""}`);
      if (e.type === EVENT.COMPLETE) ac.abort();
    }, ac.signal);
    running.finish({ error: new Error("boom") });
    await listening;
    expect(seen).toEqual([`${EVENT.STARTED}:running:`, `${EVENT.COMPLETE}:running:boom`]);
    h.close();
  });

  test("pinning bumps the generation; deleting removes the record, its log, and refuses to follow it", async () => {
    const root = temp();
    const h = new BuildHistory(root);
    h.begin(start("p")).finish({});
    h.setPinned("p", true);
    const store = new HistoryStore(root);
    expect(store.get("p")?.pinned).toBe(true);
    expect(store.get("p")?.Generation).toBe(1);
    const log = store.get("p")!.logs!.digest!;
    expect(h.blob(log)).toBeDefined();
    h.delete("p");
    expect(h.blob(log)).toBeUndefined();
    expect(() => h.setPinned("p", false)).toThrow("build record p: not found");
    await expect(h.listen({ Ref: "p" }, async () => {}, new AbortController().signal)).rejects.toThrow("ref p is deleted");
    store.close();
    h.close();
  });
});

test("a blob left half-written by a daemon that died is removed when the history opens", () => {
  const root = temp();
  new HistoryStore(root).close();
  const stale = join(root, "history", "blobs", "sha256", ".tmp-dead");
  writeFileSync(stale, "partial");
  new HistoryStore(root).close();
  expect(existsSync(stale)).toBe(false);
});

describe("HistoryStore.collect", () => {
  test("keeps the newest maxEntries and anything younger than maxAge; pinned records always", () => {
    const store = new HistoryStore(temp());
    const at = (s: number) => ({ seconds: s, nanos: 0 });
    for (let i = 0; i < 5; i++) store.put({ Ref: `r${i}`, CompletedAt: at(1000 + i), pinned: i === 0 });
    expect(store.collect(2, 10_000, 1_020_000)).toEqual(["r2", "r1"]);
    expect(store.list().map((r) => r.Ref)).toEqual(["r0", "r3", "r4"]);
    expect(store.collect(2, 10_000, 1_004_500)).toEqual([]);
    store.close();
  });
});

test("a log blob is StatusResponses, each after its length", () => {
  expect(decodeStatusLog(new Uint8Array())).toEqual([]);
});
