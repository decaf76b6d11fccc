// syncfs(2): writes back every dirty page and inode of one filesystem (the one holding the state
// root), not the whole machine's as sync(2) would; made once per build that wrote something
// (durability.ts). The call blocks its thread until the disk has it (tens of ms on a busy disk),
// so it runs in coreutils' `sync --file-system` (the same syscall) while this process keeps
// serving other builds; through bun:ffi on this thread only where that command is missing.
import { closeSync, openSync, statSync } from "node:fs";
import { dlopen, FFIType } from "bun:ffi";
import { errnoError, lastErrno, lazyLibc } from "../../../core/sys/libc.ts";

const getLibc = lazyLibc(() => dlopen("libc.so.6", { syncfs: { args: [FFIType.i32], returns: FFIType.i32 } }).symbols);

/** syncfs(2) of the filesystem holding path (a directory or file); throws with path and errno name. */
export function syncFilesystem(path: string): void {
  const fd = openSync(path, "r");
  try {
    const libc = getLibc();
    if (libc === null) throw new Error(`syncing the filesystem of ${path}: libc (syncfs) cannot be loaded here`);
    lastErrno(); // binds errno's reader now, so nothing runs between the call and the read
    if (libc.syncfs(fd) !== 0) throw errnoError(`syncing the filesystem of ${path}`, lastErrno());
  } finally {
    closeSync(fd);
  }
}

/** syncfs(2) of the filesystem holding path, without blocking this thread where `sync` exists. */
export async function syncFilesystemAsync(path: string): Promise<void> {
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn(["sync", "--file-system", path], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  } catch {
    return syncFilesystem(path); // no sync(1) here
  }
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr as ReadableStream<Uint8Array>).text()]);
  if (code !== 0) throw new Error(`syncing the filesystem of ${path}: ${stderr.trim().split("\n").at(-1) ?? `sync exited with ${code}`}`);
}

/** One path per distinct filesystem (device) among paths, skipping those that do not exist. */
export function distinctFilesystems(paths: readonly string[]): string[] {
  const seen = new Map<number, string>();
  for (const path of paths) {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st && !seen.has(st.dev)) seen.set(st.dev, path);
  }
  return [...seen.values()];
}
