#!/usr/bin/env bun
// Image export end to end on the standalone worker (needs root for overlay mounts): a snapshot
// holding 100 MB of incompressible data on a small base, exported as an OCI tarball with gzip,
// zstd and uncompressed layers. Cold: the layer is diffed (two overlay views walked together),
// compressed into the content store, and the archive written; warm: the same result again,
// its blobs reused from the content index, so only the archive is written.
// Usage: bun bench/image-export.ts [--mb 100] [--dir PARENT]
// Prints figures only (BuildKit's daemon on this 2-core machine: gzip 5.0 s, zstd 2.8 s per 100 MB layer).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createStandaloneWorker } from "../src/backends/standalone/index.ts";
import type { BuildResult } from "../src/core/exporters/exporter.ts";
import { createOciExporter } from "../src/core/exporters/oci/index.ts";
import { buildSnapshot, withView } from "../src/core/worker/snapshots.ts";

const { values } = parseArgs({ options: { mb: { type: "string", default: "100" }, dir: { type: "string", default: tmpdir() } } });
const MB = Number(values.mb);
const FILE_MB = 2;
const dir = mkdtempSync(join(values.dir, "bk-bench-export-"));

/** Incompressible bytes (getRandomValues fills at most 64 KiB per call). */
function randomFile(): Uint8Array {
  const out = new Uint8Array(FILE_MB << 20);
  for (let off = 0; off < out.length; off += 65536) crypto.getRandomValues(out.subarray(off, off + 65536));
  return out;
}

const worker = await createStandaloneWorker({ root: join(dir, "state") });
try {
  const base = await buildSnapshot(worker, undefined, async (d) => writeFileSync(join(d, "base.txt"), "base\n"));
  const top = await buildSnapshot(worker, base, async (d) => {
    for (let i = 0; i < MB / FILE_MB; i++) writeFileSync(join(d, `data-${i}.bin`), randomFile());
  });
  const result: BuildResult = { withMounted: (fn) => withView(worker, top, fn), worker, snapshot: top };
  const exporter = createOciExporter();
  console.log(`image export of a ${MB} MB layer (OCI tarball to ${dir}):`);
  for (const compression of ["gzip", "zstd", "uncompressed"]) {
    for (const run of ["cold", "warm"]) {
      const instance = exporter.resolve({ dest: join(dir, `${compression}-${run}.tar`), compression });
      const start = performance.now();
      await instance.export(result, new AbortController().signal);
      const s = (performance.now() - start) / 1000;
      console.log(`  ${compression.padEnd(12)} ${run}: ${s.toFixed(2)} s, ${(MB / s).toFixed(0)} MB/s`);
    }
  }
} finally {
  await worker.close();
  rmSync(dir, { recursive: true, force: true });
}
