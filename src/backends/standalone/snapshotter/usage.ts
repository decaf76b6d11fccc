// Disk usage of one directory tree, as containerd's fs.DiskUsage counts it: every inode once
// (hard links are not counted twice), size in allocated blocks rather than apparent length so
// sparse files and overlay whiteouts (0/0 character devices) cost what they cost on disk.
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

export interface Usage {
  size: number;
  inodes: number;
}

/** Bytes and inodes used under root, root itself included. */
export async function diskUsage(root: string): Promise<Usage> {
  const usage: Usage = { size: 0, inodes: 0 };
  const seen = new Set<string>();
  const pending = [root];
  for (;;) {
    const dir = pending.pop();
    if (dir === undefined) return usage;
    await count(dir, usage, seen);
    const entries = await readdir(dir, { withFileTypes: true });
    const children = entries.map((e) => ({ path: join(dir, e.name), isDir: e.isDirectory() }));
    for (const child of children) if (child.isDir) pending.push(child.path);
    await Promise.all(children.filter((c) => !c.isDir).map((c) => count(c.path, usage, seen)));
  }
}

async function count(path: string, usage: Usage, seen: Set<string>): Promise<void> {
  const st = await lstat(path, { bigint: true });
  if (!st.isDirectory() && st.nlink > 1n) {
    const id = `${st.dev}:${st.ino}`;
    if (seen.has(id)) return;
    seen.add(id);
  }
  usage.size += Number(st.blocks) * 512;
  usage.inodes++;
}
