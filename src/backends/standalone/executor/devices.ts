// The host's device nodes, for insecure mode (containerd's WithHostDevices): every character or
// block device under /dev except the per-container ones (/dev/pts, /dev/shm, /dev/mqueue) and
// the console, listed once per process.
import { readdirSync, statSync } from "node:fs";
import type { Dirent } from "node:fs";
import { join } from "node:path";

export interface LinuxDevice {
  readonly path: string;
  readonly type: "c" | "b";
  readonly major: number;
  readonly minor: number;
  readonly fileMode: number;
  readonly uid: number;
  readonly gid: number;
}

const SKIPPED = new Set(["/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/console", "/dev/ptmx", "/dev/fd"]);
const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/** glibc's major()/minor() for a 64-bit dev_t. */
function splitDev(rdev: number): { major: number; minor: number } {
  const dev = BigInt(rdev);
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { major, minor };
}

function readDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function device(path: string): LinuxDevice | undefined {
  const st = statSync(path, { throwIfNoEntry: false });
  const format = st ? st.mode & S_IFMT : 0;
  if (!st || (format !== S_IFCHR && format !== S_IFBLK)) return undefined;
  const type = format === S_IFCHR ? "c" : "b";
  return { path, type, ...splitDev(st.rdev), fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

function walk(dir: string, out: LinuxDevice[]): void {
  for (const entry of readDir(dir)) {
    const path = join(dir, entry.name);
    if (SKIPPED.has(path) || entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isCharacterDevice() || entry.isBlockDevice()) {
      const found = device(path);
      if (found) out.push(found);
    }
  }
}

let hostDevices: readonly LinuxDevice[] | undefined;

export function listHostDevices(): readonly LinuxDevice[] {
  if (hostDevices) return hostDevices;
  const out: LinuxDevice[] = [];
  walk("/dev", out);
  hostDevices = out;
  return out;
}
