#!/usr/bin/env bun
// Summarizes .cpuprofile files (Chrome format, as `BUN_OPTIONS=--cpu-prof` writes), averaged over
// the files given: self time per source file, and self and inclusive time per function, to see
// where a short command's milliseconds go. Build the binary unminified for readable names.
// Usage: bun bench/profile-summary.ts FILE.cpuprofile... [--top N]
import { readFileSync } from "node:fs";

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const topFlag = process.argv.indexOf("--top");
const TOP = topFlag > 0 ? Number(process.argv[topFlag + 1]) : 25;
const files = process.argv.slice(2).filter((a, i, all) => a !== "--top" && all[i - 1] !== "--top");
if (files.length === 0) throw new Error("usage: bun bench/profile-summary.ts FILE.cpuprofile... [--top N]");

const shortUrl = (url: string) => url.replace(/^.*\/(src|node_modules)\//, "$1/").replace(/^file:\/\/\/\$bunfs\/root\//, "") || "(native)";
const frameName = (f: CallFrame) => `${f.functionName || "(anonymous)"} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
const perFile = new Map<string, number>();
const selfFn = new Map<string, number>();
const inclFn = new Map<string, number>();
const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);
let span = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  span += profile.endTime - profile.startTime;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    add(perFile, shortUrl(node.callFrame.url), us);
    add(selfFn, frameName(node.callFrame), us);
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at);
      if (n) onStack.add(frameName(n.callFrame));
    }
    for (const name of onStack) add(inclFn, name, us);
  });
}
const print = (title: string, m: Map<string, number>) => {
  console.log(title);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${(us / 1000 / files.length).toFixed(1).padStart(8)} ms  ${k}`);
};
console.log(`${files.length} profile(s), mean span ${(span / 1000 / files.length).toFixed(1)} ms`);
print("self time per file:", perFile);
print("self time per function:", selfFn);
print("inclusive time per function:", inclFn);
