#!/usr/bin/env bun
// Summarizes a .cpuprofile (Chrome format, as `--cpu-prof` writes): self time per source file
// and the heaviest functions, to see where a short command's milliseconds go.
// Usage: bun bench/profile-summary.ts FILE.cpuprofile [--top N]
import { readFileSync } from "node:fs";

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const file = process.argv[2];
if (!file) throw new Error("usage: bun bench/profile-summary.ts FILE.cpuprofile [--top N]");
const topFlag = process.argv.indexOf("--top");
const TOP = topFlag > 0 ? Number(process.argv[topFlag + 1]) : 25;
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

const shortUrl = (url: string) => url.replace(/^.*\/(src|node_modules)\//, "$1/") || "(native)";
const perFile = new Map<string, number>();
const perFn = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  const url = shortUrl(node.callFrame.url);
  perFile.set(url, (perFile.get(url) ?? 0) + us);
  const fn = `${node.callFrame.functionName || "(anonymous)"} ${url}:${node.callFrame.lineNumber + 1}`;
  perFn.set(fn, (perFn.get(fn) ?? 0) + us);
}
const print = (title: string, m: Map<string, number>) => {
  console.log(title);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`);
};
console.log(`profile span ${((profile.endTime - profile.startTime) / 1000).toFixed(1)} ms, ${profile.samples.length} samples`);
print("self time per file:", perFile);
print("self time per function:", perFn);
