// The compiled buildkit binary for this machine, rebuilt when older than the sources, and
// small timing helpers shared by the benchmarks.
import { statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { buildTarget, outputPath, TARGETS } from "../../scripts/build-binaries.ts";
import type { Target } from "../../scripts/build-binaries.ts";

export const REPO = resolve(import.meta.dir, "../..");

function hostTarget(): Target {
  const name = `${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;
  const target = TARGETS.find((t) => t === name);
  if (!target) throw new Error(`no binary target for this machine (${name})`);
  return target;
}

const mtime = (path: string) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;

/** The newest modification time among the files a binary is built from. */
function sourcesMtime(): number {
  let newest = mtime(join(REPO, "package.json"));
  for (const file of new Bun.Glob("{src,examples}/**/*.{ts,js,json}").scanSync(REPO)) newest = Math.max(newest, mtime(join(REPO, file)));
  return newest;
}

export async function binary(): Promise<string> {
  const target = hostTarget();
  const path = outputPath(target);
  if (mtime(path) > sourcesMtime()) return path;
  console.log(`building ${relative(REPO, path)} ...`);
  return buildTarget(target);
}

/** "min … median … p90 …" of a list of milliseconds (nearest-rank quantiles). */
export function summary(label: string, times: readonly number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => (sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN).toFixed(1);
  return `${label.padEnd(44)} min ${at(0).padStart(7)} ms  median ${at(0.5).padStart(7)} ms  p90 ${at(0.9).padStart(7)} ms`;
}

export function median(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
