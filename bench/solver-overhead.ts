#!/usr/bin/env bun
// The solver's own cost, with no-op ops: a 10-step chain and a 1000-vertex wide graph (1000
// execs on one image, merged), each solved cold (every op runs) and fully cached (keys, store
// lookups, one result load). The cache index is a real bun:sqlite file in a temp dir.
// Usage: bun bench/solver-overhead.ts [--runs N]   (default 20 timed runs per figure, median shown)
// Prints figures only; it asserts nothing about them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openCacheStore, type CacheStore } from "../src/core/cache/store.ts";
import { loadDefinition, type LoadedDefinition } from "../src/core/llb/definition.ts";
import { image, LINUX_AMD64, merge, type State } from "../src/core/llb/index.ts";
import type { ProgressWriter } from "../src/core/progress/events.ts";
import type { OpResolver, ResultRef } from "../src/core/solver/op.ts";
import { solve } from "../src/core/solver/scheduler.ts";

const runsFlag = process.argv.indexOf("--runs");
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 20;
if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs takes a positive integer");

let next = 0;
const ref = (id: string): ResultRef => ({ id, release: async () => {} });
const resolve: OpResolver = (op) => ({
  exec: async () => Array.from({ length: op.outputs }, () => ref(`r${++next}`)),
  ...(op.op.op === "source" ? { contentKey: async () => "sha256:content" } : {}),
});
const loadResult = async (id: string): Promise<ResultRef | undefined> => ref(id);
const progress: ProgressWriter = { write: () => {}, close: async () => {} };

function chain(steps: number, salt: string): State {
  let st = image("docker.io/library/busybox:latest");
  for (let i = 0; i < steps; i++) st = st.run({ shlex: `step ${i} ${salt}` }).root();
  return st;
}

function wide(width: number, salt: string): State {
  const base = image("docker.io/library/busybox:latest");
  return merge(Array.from({ length: width }, (_, i) => base.run({ shlex: `step ${i} ${salt}` }).root()));
}

async function time(def: LoadedDefinition, store: CacheStore): Promise<number> {
  const start = performance.now();
  const { result } = await solve(def, { resolve, store, progress, loadResult, concurrency: 64 });
  const elapsed = performance.now() - start;
  await result?.release();
  return elapsed;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const fmt = (ms: number): string => `${ms.toFixed(2)} ms`;

/** Cold: a fresh graph (new keys) each run; cached: the same graph again. */
async function measure(label: string, make: (salt: string) => State, n: number, store: CacheStore): Promise<void> {
  const cold: number[] = [];
  const cached: number[] = [];
  for (let i = 0; i < n; i++) {
    const def = loadDefinition(make(`${label}-${i}`).marshal({ platform: LINUX_AMD64 }));
    cold.push(await time(def, store));
    cached.push(await time(def, store));
  }
  console.log(`${label.padEnd(22)} cold ${fmt(median(cold)).padStart(10)}   cached ${fmt(median(cached)).padStart(10)}   (median of ${n})`);
}

const dir = mkdtempSync(join(tmpdir(), "solver-bench-"));
const store = openCacheStore(join(dir, "metadata.db"));
try {
  await measure("warm-up", (s) => chain(10, s), 3, store);
  await measure("10-step chain", (s) => chain(10, s), runs, store);
  await measure("1000-vertex wide", (s) => wide(1000, s), Math.max(3, Math.ceil(runs / 5)), store);
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
