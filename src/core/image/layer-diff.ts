/**
 * The changes between two full trees (containerd's double walk): both are walked together in
 * sorted order; a path only in `upper` is added (with its subtree), one only in `lower` is
 * whited out, one in both is added when it differs. A directory that did not change itself
 * still goes in before any change below it, with its metadata from `upper`.
 *
 * "Differs" follows containerd's sameFile: the same inode is the same file; otherwise mode,
 * owner, device number and xattrs must match, and for non-directories the size and mtime;
 * when both mtimes have no sub-second part (a copy that truncated them) the contents (or
 * symlink targets) are compared too.
 */
import { closeSync, constants, openSync, readSync } from "node:fs";
import { lstat, readlink } from "node:fs/promises";
import type { BigIntStats } from "node:fs";
import { joinRel, layerXattrs, sortedNames, walkTree } from "./layer-walk.ts";
import type { AddChange, LayerChange, Xattrs } from "./layer-walk.ts";

const NS = 1_000_000_000n;
const COMPARE_CHUNK = 1 << 20;

/** Directories entered but not yet written, written before the first change below them. */
class PendingParents {
  readonly #stack: Array<{ change: AddChange; written: boolean }> = [];

  push(change: AddChange, written: boolean): void {
    this.#stack.push({ change, written });
  }

  pop(): void {
    this.#stack.pop();
  }

  *flush(): Generator<LayerChange> {
    for (const p of this.#stack) {
      if (p.written) continue;
      p.written = true;
      yield p.change;
    }
  }
}

function sameXattrs(a: Xattrs, b: Xattrs): boolean {
  return a.length === b.length && a.every(([n, v], i) => b[i]?.[0] === n && Buffer.compare(v, b[i]?.[1] ?? new Uint8Array(0)) === 0);
}

function sameStat(a: BigIntStats, b: BigIntStats): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.rdev === b.rdev;
}

/** Byte-for-byte comparison of two files of the same size. */
function sameContent(a: string, b: string): boolean {
  const fa = openSync(a, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const fb = openSync(b, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const ba = Buffer.allocUnsafe(COMPARE_CHUNK);
      const bb = Buffer.allocUnsafe(COMPARE_CHUNK);
      for (;;) {
        const na = readSync(fa, ba, 0, COMPARE_CHUNK, null);
        const nb = readSync(fb, bb, 0, COMPARE_CHUNK, null);
        if (na !== nb || ba.compare(bb, 0, nb, 0, na) !== 0) return false;
        if (na === 0) return true;
      }
    } finally {
      closeSync(fb);
    }
  } finally {
    closeSync(fa);
  }
}

async function sameFile(lower: AddChange, upper: AddChange): Promise<boolean> {
  const [a, b] = [lower.st, upper.st];
  if (a.dev === b.dev && a.ino === b.ino) return true;
  if (!sameStat(a, b) || !sameXattrs(lower.xattrs, upper.xattrs)) return false;
  if (b.isDirectory()) return true;
  if (a.size !== b.size || a.mtimeNs / NS !== b.mtimeNs / NS) return false;
  if (a.mtimeNs % NS !== 0n || b.mtimeNs % NS !== 0n) return a.mtimeNs === b.mtimeNs;
  if (b.isSymbolicLink()) return (await readlink(lower.host)) === (await readlink(upper.host));
  return !b.isFile() || a.size === 0n || sameContent(lower.host, upper.host);
}

async function statChange(rel: string, host: string): Promise<AddChange> {
  return { kind: "add", rel, host, st: await lstat(host, { bigint: true }), xattrs: layerXattrs(host) };
}

/** The union of two sorted name lists, each name tagged with where it is. */
function* mergeNames(lower: readonly string[], upper: readonly string[]): Generator<[string, boolean, boolean]> {
  let i = 0;
  let j = 0;
  while (i < lower.length || j < upper.length) {
    const l = lower[i];
    const u = upper[j];
    const cmp = l === undefined ? 1 : u === undefined ? -1 : Buffer.compare(Buffer.from(l), Buffer.from(u));
    if (cmp === 0) i++, j++;
    else if (cmp < 0) i++;
    else j++;
    const name = (cmp <= 0 ? l : u) as string;
    yield [name, cmp <= 0, cmp >= 0];
  }
}

async function* diffEntry(pending: PendingParents, rel: string, lowerHost: string, upperHost: string): AsyncGenerator<LayerChange> {
  const lower = await statChange(rel, lowerHost);
  const upper = await statChange(rel, upperHost);
  if (upper.st.isSocket()) return;
  const bothDirs = lower.st.isDirectory() && upper.st.isDirectory();
  const same = (lower.st.mode & 0o170000n) === (upper.st.mode & 0o170000n) && (await sameFile(lower, upper));
  if (!same) {
    yield* pending.flush();
    yield upper;
  }
  if (bothDirs) {
    pending.push(upper, !same);
    yield* diffDirs(pending, rel, lowerHost, upperHost);
    pending.pop();
  } else if (!same && upper.st.isDirectory()) {
    yield* walkTree(rel, upperHost, { overlay: false });
  }
}

async function* diffDirs(pending: PendingParents, rel: string, lowerDir: string, upperDir: string): AsyncGenerator<LayerChange> {
  const lowerNames = await sortedNames(lowerDir);
  const upperNames = await sortedNames(upperDir);
  for (const [name, inLower, inUpper] of mergeNames(lowerNames, upperNames)) {
    const childRel = joinRel(rel, name);
    if (inLower && inUpper) {
      yield* diffEntry(pending, childRel, `${lowerDir}/${name}`, `${upperDir}/${name}`);
      continue;
    }
    yield* pending.flush();
    if (inLower) {
      yield { kind: "whiteout", rel: childRel };
      continue;
    }
    const added = await statChange(childRel, `${upperDir}/${name}`);
    if (added.st.isSocket()) continue;
    yield added;
    if (added.st.isDirectory()) yield* walkTree(childRel, added.host, { overlay: false });
  }
}

/** The changes that turn the tree `lower` into the tree `upper`. */
export function diffTrees(lower: string, upper: string): AsyncGenerator<LayerChange> {
  return diffDirs(new PendingParents(), "", lower, upper);
}
