#!/usr/bin/env bun
// The COPY file action over a tree of 10,000 files / ~100 MB: a plain copy, and (where the
// source is an immutable snapshot) the hard-linking copy. Prints medians; asserts nothing.
// Usage: bun bench/copy.ts [--files N] [--runs N] [--dir PARENT]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyFileAction } from "../src/core/fs/file-actions.ts";
import { median } from "./lib/binary.ts";

const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const FILES = Number(flag("--files") ?? 10_000);
const RUNS = Number(flag("--runs") ?? 5);

const base = mkdtempSync(join(flag("--dir") ?? tmpdir(), "bench-copy-"));
try {
  const src = join(base, "src");
  const chunk = new Uint8Array(10_000).map((_, i) => (i * 7919) & 255);
  for (let i = 0; i < FILES; i++) {
    const dir = join(src, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    chunk[0] = i & 255;
    writeFileSync(join(dir, `f${i % 100}`), chunk);
  }
  const action = { copy: { src: "/", dest: "/", mode: -1, timestamp: -1, dirCopyContents: true, createDestPath: true } };
  for (const linkable of [false, true]) {
    const times: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const dest = join(base, `dest-${linkable}-${r}`);
      mkdirSync(dest);
      const t0 = performance.now();
      await applyFileAction(action, { base: dest, secondary: src, ...(linkable ? { linkable } : {}) });
      times.push(performance.now() - t0);
      rmSync(dest, { recursive: true, force: true });
    }
    console.log(`COPY ${FILES} files, ${linkable ? "hard links allowed" : "plain copy"}: median ${median(times).toFixed(0)} ms of ${RUNS} (${times.map((t) => t.toFixed(0)).join(", ")})`);
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
