import { copyFile, lchown, lstat, lutimes, mkdir, readdir, readlink, symlink, chmod, utimes } from "node:fs/promises";
import type { BigIntStats } from "node:fs";
import { join } from "node:path";

/**
 * Writes into `out` every entry of `upper` that is new or changed compared with `lower`
 * (type, mode, owner, size, modification time, link target), with the directories that lead
 * to it. Entries that exist only in `lower` (deletions) are not represented.
 */
export async function writeTreeDiff(lower: string, upper: string, out: string, rel = ""): Promise<void> {
  for (const name of (await readdir(join(upper, rel))).sort()) {
    const path = join(rel, name);
    const u = await lstat(join(upper, path), { bigint: true });
    const l = await lstat(join(lower, path), { bigint: true }).catch(() => undefined);
    if (u.isDirectory()) {
      // A directory's times change with its children, which the diff carries anyway; only a
      // new directory or a changed mode or owner makes the directory itself part of it.
      if (!l?.isDirectory() || !sameOwnerAndMode(u, l)) await copyMeta(join(out, path), u, true);
      await writeTreeDiff(lower, upper, out, path);
      continue;
    }
    if (l && sameMeta(u, l) && sameType(u, l) && (u.isSymbolicLink() ? (await readlink(join(upper, path))) === (await readlink(join(lower, path))) : true)) continue;
    await ensureParents(upper, out, rel);
    await copyEntry(join(upper, path), join(out, path), u);
  }
}

function sameType(a: BigIntStats, b: BigIntStats): boolean {
  return (a.mode & 0o170000n) === (b.mode & 0o170000n);
}

function sameOwnerAndMode(a: BigIntStats, b: BigIntStats): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
}

function sameMeta(a: BigIntStats, b: BigIntStats): boolean {
  return sameOwnerAndMode(a, b) && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

/** Creates the parent directories of rel in out, with upper's modes and owners. */
async function ensureParents(upper: string, out: string, rel: string): Promise<void> {
  let acc = "";
  for (const part of rel.split("/").filter(Boolean)) {
    acc = join(acc, part);
    const st = await lstat(join(upper, acc), { bigint: true });
    await copyMeta(join(out, acc), st, true);
  }
}

async function copyMeta(dest: string, st: BigIntStats, dir: boolean): Promise<void> {
  if (dir) await mkdir(dest, { recursive: true });
  await lchown(dest, Number(st.uid), Number(st.gid));
  await chmod(dest, Number(st.mode & 0o7777n));
  await utimes(dest, new Date(Number(st.atimeNs / 1_000_000n)), new Date(Number(st.mtimeNs / 1_000_000n)));
}

async function copyEntry(src: string, dest: string, st: BigIntStats): Promise<void> {
  if (st.isSymbolicLink()) {
    await symlink(await readlink(src), dest);
    await lchown(dest, Number(st.uid), Number(st.gid));
    await lutimes(dest, new Date(Number(st.atimeNs / 1_000_000n)), new Date(Number(st.mtimeNs / 1_000_000n)));
    return;
  }
  if (st.isFile()) {
    await copyFile(src, dest);
    await copyMeta(dest, st, false);
  }
  // Devices, fifos and sockets are left out of diffs.
}
