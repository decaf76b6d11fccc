#!/usr/bin/env bun
// MergeOp of N single-file inputs on the standalone worker (as root: overlayfs), timing the
// op alone. Prints figures; asserts nothing. Usage: bun bench/merge.ts [N]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStandaloneWorker } from "../src/backends/standalone/index.ts";
import { createSnapshotRefs } from "../src/core/cache/refs.ts";
import { mergeAdapter } from "../src/core/solver/ops/merge-diff.ts";
import { buildSnapshot } from "../src/core/worker/snapshots.ts";
import type { OpContext } from "../src/core/solver/op.ts";

const N = Number(process.argv[2] ?? 200);
const root = mkdtempSync(join(tmpdir(), "bench-merge-"));
const worker = await createStandaloneWorker({ root, signal: new AbortController().signal });
try {
  const refs = createSnapshotRefs(worker.snapshotter);
  const inputs = [];
  for (let i = 0; i < N; i++) inputs.push(refs.ref(await buildSnapshot(worker, undefined, async (dir) => writeFileSync(join(dir, `f${i}`), `${i}`))));
  const op = { inputs: inputs.map((_, i) => ({ input: i })) };
  const ctx = { signal: new AbortController().signal } as unknown as OpContext;
  const t0 = performance.now();
  await mergeAdapter(op, { worker, refs }).exec(inputs, ctx);
  const ms = performance.now() - t0;
  console.log(`merge of ${N} inputs: ${ms.toFixed(0)} ms (${(ms / N).toFixed(2)} ms per input)`);
} finally {
  await worker.close();
  rmSync(root, { recursive: true, force: true });
}
