// ext4's "top of a directory hierarchy" flag (FS_TOPDIR_FL, `chattr +T`) on the directories
// that hold many independent trees (snapshots/, executor/bundles/): ext4 then places each new
// subdirectory with the Orlov allocator in a lightly used block group, as it does for
// subdirectories of the filesystem's root, instead of next to its parent; the files made below
// it follow their directory's group.
//
// Why: on ext4 without a journal (this project's CI VM), allocating an inode skips, one by one,
// every free inode of the group that was deleted in the last ~30 s (`recently_deleted`), so in a
// group where anything (another build's state, a test suite) just deleted thousands of files,
// each new inode costs a scan of them. `perf` of a cold 10-step chain: ~60% of the process's
// CPU under __ext4_new_inode -> find_inode_bit -> recently_deleted, mostly the ~280 symlinks of
// busybox's layer. Unpacking that layer (applyLayer alone, 5 interleaved runs): median 114 ms
// in a plain directory, 67 ms below one marked +T.
//
// Best effort: other filesystems refuse or ignore the flag, and without libc nothing is done.
import { closeSync, constants, openSync } from "node:fs";
import { dlopen, FFIType, ptr } from "bun:ffi";
import { lazyLibc } from "../../../core/sys/libc.ts";

// _IOR('f', 1, long) and _IOW('f', 2, long): the same numbers on every 64-bit Linux.
const FS_IOC_GETFLAGS = 0x80086601;
const FS_IOC_SETFLAGS = 0x40086602;
const FS_TOPDIR_FL = 0x00020000;

const getLibc = lazyLibc(() => dlopen("libc.so.6", { ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 } }).symbols);

/** Marks `dir` as the top of independent hierarchies (see above); true when the flag is set. */
export function spreadSubdirectories(dir: string): boolean {
  if (process.platform !== "linux") return false;
  const libc = getLibc();
  if (libc === null) return false;
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return false;
  }
  try {
    // The kernel reads and writes an int through the pointer, whatever the ioctl's name says.
    const flags = new Int32Array(1);
    if (libc.ioctl(fd, FS_IOC_GETFLAGS, ptr(flags)) !== 0) return false;
    if (((flags[0] ?? 0) & FS_TOPDIR_FL) !== 0) return true;
    flags[0] = (flags[0] ?? 0) | FS_TOPDIR_FL;
    return libc.ioctl(fd, FS_IOC_SETFLAGS, ptr(flags)) === 0;
  } finally {
    closeSync(fd);
  }
}
