// Reading this process's mount table (/proc/self/mountinfo), for removing a directory only
// once nothing is mounted inside it any more.
import { readFileSync } from "node:fs";

/** Undoes mountinfo's octal escapes (\040 for a space, …). */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Mount points at or below dir in this process's mount namespace, deepest first. */
export function mountPointsUnder(dir: string): string[] {
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined)
    .map(unescapeMountPath)
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return points.sort((a, b) => b.length - a.length);
}
