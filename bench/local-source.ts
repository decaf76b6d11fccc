#!/usr/bin/env bun
// The local source: checksum (cold stat cache, one touched file, unchanged) and copy of a tree of
// 10,000 files totalling about 100 MB of deterministic pseudo-random content.
// Usage: bun bench/local-source.ts [--files N] [--runs N] [--dir PARENT] [--keep]
// Prints figures only; it asserts nothing about them (target: unchanged re-check under 150 ms).
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checksumTree, copyTree, openStatCache } from "../src/core/sources/local/index.ts";
import type { ChecksumResult } from "../src/core/sources/local/index.ts";

const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const FILES = Number(flag("--files") ?? 10_000);
const RUNS = Number(flag("--runs") ?? 5);
const MEAN_SIZE = 10_000; // bytes: 10,000 files ≈ 100 MB
const PER_DIR = 100;

/** xorshift32: the same bytes on every machine. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

/** Files in dNN/dNN/fNNNN, sizes uniform in [0, 2 × MEAN_SIZE). */
function generate(root: string): { paths: string[]; bytes: number } {
  const next = prng(42);
  const paths: string[] = [];
  let bytes = 0;
  for (let i = 0; i < FILES; i++) {
    const dir = Math.floor(i / PER_DIR);
    const path = `d${String(dir % 10).padStart(2, "0")}/d${String(dir).padStart(3, "0")}/f${String(i).padStart(5, "0")}`;
    if (i % PER_DIR === 0) mkdirSync(join(root, path, ".."), { recursive: true });
    const size = next() % (2 * MEAN_SIZE);
    const data = new Uint32Array(Math.ceil(size / 4));
    for (let j = 0; j < data.length; j++) data[j] = next();
    writeFileSync(join(root, path), new Uint8Array(data.buffer, 0, size));
    paths.push(path);
    bytes += size;
  }
  return { paths, bytes };
}

const ms = (start: number) => performance.now() - start;
const mb = (bytes: number) => bytes / 1e6;
const fmt = (n: number) => n.toFixed(1);

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: ms(start) };
}

function line(label: string, t: number, r: ChecksumResult): void {
  const rate = r.hashedBytes > 1e6 ? `, ${fmt(mb(r.hashedBytes) / (t / 1000))} MB/s hashed` : "";
  console.log(`${label.padEnd(28)} ${fmt(t).padStart(8)} ms  (${r.files} files, ${fmt(mb(r.bytes))} MB, read ${r.hashedBytes} bytes${rate})`);
}

const base = mkdtempSync(join(flag("--dir") ?? tmpdir(), "buildkit-ts-local-bench-"));
try {
  const root = join(base, "tree");
  const gen = await timed(async () => generate(root));
  console.log(`generated ${gen.value.paths.length} files, ${fmt(mb(gen.value.bytes))} MB in ${fmt(gen.ms)} ms (${root})`);
  await Bun.sleep(50); // let the newest files leave the stat cache's racy window
  const cache = openStatCache(join(base, "stat-cache.db"));

  const cold = await timed(() => checksumTree(root, { cache, name: "bench" }));
  line("checksum, cold cache", cold.ms, cold.value);

  const touched = join(root, gen.value.paths[Math.floor(FILES / 2)] ?? "");
  const now = Date.now() / 1000;
  utimesSync(touched, now, now);
  const touch = await timed(() => checksumTree(root, { cache, name: "bench" }));
  line("checksum, one file touched", touch.ms, touch.value);
  if (touch.value.digest !== cold.value.digest) console.log("  !! digest changed after touch");

  await Bun.sleep(50);
  const times: number[] = [];
  let last = touch.value;
  for (let i = 0; i < RUNS; i++) {
    const run = await timed(() => checksumTree(root, { cache, name: "bench" }));
    times.push(run.ms);
    last = run.value;
  }
  times.sort((a, b) => a - b);
  line(`checksum, unchanged (min/${RUNS})`, times[0] ?? 0, last);
  console.log(`${"checksum, unchanged (median)".padEnd(28)} ${fmt(times[Math.floor(times.length / 2)] ?? 0).padStart(8)} ms`);
  cache.close();

  const dest = join(base, "copy");
  mkdirSync(dest);
  const copy = await timed(() => copyTree(root, dest, { name: "bench" }));
  const c = copy.value;
  console.log(`${"copyTree".padEnd(28)} ${fmt(copy.ms).padStart(8)} ms  (${c.files} files, ${c.dirs} dirs, ${fmt(mb(c.bytes))} MB, ${fmt(mb(c.bytes) / (copy.ms / 1000))} MB/s)`);
} finally {
  if (process.argv.includes("--keep")) console.log(`kept ${base}`);
  else rmSync(base, { recursive: true, force: true });
}
