// Direct libc calls through bun:ffi, so that mounting costs a syscall rather than a process
// (DESIGN.md, Performance rules). Only the few functions the standalone backend needs; each
// returns 0 or the errno of the failure, and callers turn that into an error with context.
// C strings, errno and errno names come from core/sys/libc.ts.
import { dlopen, FFIType } from "bun:ffi";
import { cString, errnoName, lastErrno as errno } from "../../../core/sys/libc.ts";

export { errnoName };

// Bound on first use, in two groups: bun:ffi compiles a trampoline per symbol (~0.3 ms each
// here), and a cached build only takes the root's lock.
function openMounting() {
  return dlopen("libc.so.6", {
    mount: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
    umount2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    getpagesize: { args: [], returns: FFIType.i32 },
  });
}
function openLocking() {
  return dlopen("libc.so.6", { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
}
let mounting: ReturnType<typeof openMounting> | undefined;
let locking: ReturnType<typeof openLocking> | undefined;
const libc = {
  get symbols() {
    return (mounting ??= openMounting()).symbols;
  },
};

/** mount(2) flags (include/uapi/linux/mount.h). */
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  REC: 16384,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
} as const;

/** umount2(2) flags. */
export const MNT_DETACH = 2;

/** mount(2); returns 0 or errno. */
export function sysMount(source: string, target: string, fstype: string | null, flags: number, data: string | null): number {
  const rc = libc.symbols.mount(cString(source), cString(target), cString(fstype), flags, cString(data));
  return rc === 0 ? 0 : errno();
}

/** umount2(2); returns 0 or errno. */
export function sysUmount2(target: string, flags: number): number {
  const rc = libc.symbols.umount2(cString(target), flags);
  return rc === 0 ? 0 : errno();
}

/** flock(2) operations. */
export const LOCK = { SH: 1, EX: 2, NB: 4, UN: 8 } as const;

/** flock(2); returns 0 or errno. */
export function sysFlock(fd: number, operation: number): number {
  return (locking ??= openLocking()).symbols.flock(fd, operation) === 0 ? 0 : errno();
}

let pageSize: number | undefined;

/** The kernel's page size: mount(2) copies at most this many bytes of data, NUL included. */
export function getPageSize(): number {
  pageSize ??= libc.symbols.getpagesize();
  return pageSize;
}

/** "EINVAL (22)" for 22. */
export function describeErrno(n: number): string {
  return `${errnoName(n) ?? "errno"} (${n})`;
}
