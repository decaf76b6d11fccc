#!/usr/bin/env bun
// Layer export and apply: a 100 MB layer of incompressible data (50 files × 2 MB from a
// xorshift PRNG) written as gzip, zstd and uncompressed, then each blob applied to an empty dir.
// Usage: bun bench/layer-export.ts [--files N] [--mb-per-file N] [--runs N] [--dir PARENT] [--gzip-level N]
//        [--no-store] (gzip: never store incompressible chunks) [--tree DIR] (a real tree instead)
// Prints figures only; it asserts nothing (BuildKit on this 2-core machine: gzip 5.0 s, zstd 2.8 s).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyLayer } from "../src/core/image/layer-apply.ts";
import { writeLayer } from "../src/core/image/layer-write.ts";
import type { Compression } from "../src/core/image/compression.ts";

const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const FILES = Number(flag("--files") ?? 50);
const FILE_MB = Number(flag("--mb-per-file") ?? 2);
const RUNS = Number(flag("--runs") ?? 3);
const GZIP_LEVEL = flag("--gzip-level");
const parent = flag("--dir") ?? tmpdir();
const TREE = flag("--tree");
const STORE = !process.argv.includes("--no-store");

/** xorshift128: the same incompressible bytes on every machine, ~1 GB/s. */
function fill(words: Uint32Array, seed: number): void {
  let x = seed >>> 0 || 1;
  let y = 362436069;
  let z = 521288629;
  let w = 88675123;
  for (let i = 0; i < words.length; i++) {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    words[i] = w;
  }
}

function generate(root: string): number {
  const words = new Uint32Array((FILE_MB * 1024 * 1024) / 4);
  mkdirSync(join(root, "data"));
  for (let i = 0; i < FILES; i++) {
    fill(words, i + 1);
    writeFileSync(join(root, "data", `f${String(i).padStart(3, "0")}`), words);
  }
  return FILES * words.byteLength;
}

const mb = (bytes: number) => bytes / 1e6;
const fmt = (n: number, digits = 2) => n.toFixed(digits).padStart(7);

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

async function bench(work: string, upper: string, compression: Compression): Promise<void> {
  let bytes = 0;
  const writes: number[] = [];
  const applies: number[] = [];
  let size = 0;
  for (let run = 0; run < RUNS; run++) {
    const blob = join(work, `layer-${compression}`);
    const opts = { storeIncompressible: STORE, ...(GZIP_LEVEL === undefined ? {} : { gzipLevel: Number(GZIP_LEVEL) }) };
    const w = await timed(() => writeLayer({ upperDir: upper }, blob, compression, opts));
    writes.push(w.ms);
    size = w.value.size;
    bytes = w.value.uncompressedSize;
    const target = join(work, `apply-${compression}-${run}`);
    mkdirSync(target);
    const a = await timed(() => applyLayer(Bun.file(blob).stream(), target));
    applies.push(a.ms);
    if (a.value.diffID !== w.value.diffID) throw new Error(`${compression}: diffID mismatch`);
    rmSync(target, { recursive: true });
    rmSync(blob);
  }
  const best = (xs: number[]) => Math.min(...xs);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  console.log(
    `${compression.padEnd(12)} write ${fmt(median(writes) / 1000)} s (best ${fmt(best(writes) / 1000)} s, ${fmt(mb(bytes) / (median(writes) / 1000), 0)} MB/s)` +
      `  size ${fmt(mb(size), 1)} MB  apply ${fmt(median(applies) / 1000)} s (${fmt(mb(bytes) / (median(applies) / 1000), 0)} MB/s)`,
  );
}

const work = mkdtempSync(join(parent, "bk-layer-bench-"));
try {
  const upper = TREE ?? join(work, "upper");
  if (TREE === undefined) {
    mkdirSync(upper);
    const bytes = generate(upper);
    console.log(`layer: ${FILES} files × ${FILE_MB} MB = ${fmt(mb(bytes), 0)} MB random`);
  } else console.log(`layer: the tree ${TREE}`);
  console.log(`${RUNS} runs, median; gzip level ${GZIP_LEVEL ?? "default"}, store incompressible: ${STORE}`);
  for (const compression of ["gzip", "zstd", "uncompressed"] as const) await bench(work, upper, compression);
} finally {
  rmSync(work, { recursive: true, force: true });
}
