/**
 * Wildcard expansion inside a root (fsutil's ResolveWildcards): the part of the path before
 * the first component with wildcards is resolved in the root, then the tree below it is
 * walked in lexical order and each path whose remainder matches (Go filepath.Match, so `*`
 * stays within a component) is returned; a matching directory is not descended into.
 */
import { lstat, readdir } from "node:fs/promises";
import { cleanAbs, resolveInRoot, rootRelative } from "./safe-path.ts";
import { matchWildcardLenient, splitWildcards } from "./wildcard.ts";

/** Byte-wise order of Go's sort.Strings on names. */
function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Walks below `dir` (host path), collecting host paths whose relative path matches. */
interface Walk {
  pattern: string;
  maxDepth: number;
  out: string[];
}

async function walk(dir: string, rel: string, w: Walk): Promise<void> {
  const depth = rel === "" ? 0 : rel.split("/").length;
  if (depth >= w.maxDepth) return;
  const names = (await readdir(dir)).sort(compareNames);
  for (const name of names) {
    const childRel = rel === "" ? name : `${rel}/${name}`;
    const child = `${dir === "/" ? "" : dir}/${name}`;
    const st = await lstat(child);
    if (matchWildcardLenient(w.pattern, childRel)) {
      w.out.push(child);
      continue;
    }
    if (st.isDirectory()) await walk(child, childRel, w);
  }
}

/**
 * The paths (root-relative, absolute) matched by `p` inside `root`; `[p]` cleaned when it has
 * no wildcards. `followLinks` follows a symlink in the last component of the fixed prefix.
 * A missing prefix directory throws ENOENT as the walk would.
 */
export async function resolveWildcards(root: string, p: string, followLinks: boolean): Promise<string[]> {
  const [fixed, pattern] = splitWildcards(cleanAbs(p));
  if (pattern === "") return [fixed];
  const base = await resolveInRoot(root, fixed, { followFinal: followLinks });
  const st = await lstat(base);
  if (!st.isDirectory()) return [];
  // A class like [^x] can match "/", so only class-free patterns bound the depth.
  const maxDepth = pattern.includes("[") ? Number.POSITIVE_INFINITY : pattern.split("/").length;
  const out: string[] = [];
  await walk(base, "", { pattern, maxDepth, out });
  return out.map((host) => rootRelative(root, host));
}
