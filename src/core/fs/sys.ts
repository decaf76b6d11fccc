/**
 * The few libc calls file ops need that Node lacks, through bun:ffi: utimensat with
 * nanoseconds and AT_SYMLINK_NOFOLLOW, mknod for device nodes and FIFOs, and the l*xattr
 * family. libc is opened on first use; where it cannot be (not glibc), times fall back to
 * fs.lutimes (microsecond precision), xattrs are skipped and mknod is unsupported.
 */
import { dlopen, FFIType, ptr, read } from "bun:ffi";
import { lutimes } from "node:fs/promises";
import { constants } from "node:os";
import { BuildkitError } from "../errors.ts";

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const NS = 1_000_000_000n;

function openLibc() {
  return dlopen("libc.so.6", {
    utimensat: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    mknod: { args: [FFIType.ptr, FFIType.u32, FFIType.u64], returns: FFIType.i32 },
    llistxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    lgetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    lsetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
}

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) if (!errnoNames.has(value)) errnoNames.set(value, name);

type Libc = ReturnType<typeof openLibc>["symbols"];
let libc: Libc | null | undefined;

function getLibc(): Libc | null {
  if (libc === undefined) {
    try {
      libc = openLibc().symbols;
    } catch {
      libc = null;
    }
  }
  return libc;
}

function cString(s: string): Buffer {
  return Buffer.from(`${s}\0`, "utf8");
}

/** A Node-style errno error, so callers map it like any fs error. */
function errnoError(lib: Libc, syscall: string, path: string): Error {
  const location = lib.__errno_location();
  const errno = location === null ? 0 : read.i32(location, 0);
  const code = errnoNames.get(errno) ?? `errno ${errno}`;
  return Object.assign(new Error(`${syscall} ${path}: ${code}`), { code, errno });
}

/** timespec {sec, nsec} of nanoseconds since the epoch, nsec always in [0, 1e9). */
function timespec(ns: bigint): [bigint, bigint] {
  let sec = ns / NS;
  let nsec = ns % NS;
  if (nsec < 0n) [sec, nsec] = [sec - 1n, nsec + NS];
  return [sec, nsec];
}

/** Sets atime and mtime (nanoseconds since the epoch) without following a final symlink. */
export async function setTimes(path: string, atimeNs: bigint, mtimeNs: bigint): Promise<void> {
  const lib = getLibc();
  if (lib === null) {
    await lutimes(path, Number(atimeNs) / 1e9, Number(mtimeNs) / 1e9);
    return;
  }
  const times = new BigInt64Array([...timespec(atimeNs), ...timespec(mtimeNs)]);
  const p = cString(path);
  if (lib.utimensat(AT_FDCWD, ptr(p), ptr(times), AT_SYMLINK_NOFOLLOW) !== 0) throw errnoError(lib, "utimensat", path);
}

/** mknod(2): creates a device node, FIFO or socket with the full st_mode and st_rdev. */
export function makeNode(path: string, mode: number, rdev: bigint): void {
  const lib = getLibc();
  if (lib === null) throw new BuildkitError("Unimplemented", `mknod ${path}: not supported on this platform`);
  const p = cString(path);
  if (lib.mknod(ptr(p), mode, rdev) !== 0) throw errnoError(lib, "mknod", path);
}

/** The extended attribute names of `path` (not following a symlink); [] when unsupported. */
function listXattrs(lib: Libc, p: Buffer): string[] {
  const size = Number(lib.llistxattr(ptr(p), null, 0n));
  if (size <= 0) return [];
  const buf = Buffer.alloc(size);
  const got = Number(lib.llistxattr(ptr(p), ptr(buf), BigInt(size)));
  if (got <= 0) return [];
  return buf.subarray(0, got).toString("utf8").split("\0").filter((n) => n !== "");
}

function getXattr(lib: Libc, p: Buffer, name: Buffer): Buffer | undefined {
  const size = Number(lib.lgetxattr(ptr(p), ptr(name), null, 0n));
  if (size < 0) return undefined;
  const buf = Buffer.alloc(Math.max(size, 1));
  const got = Number(lib.lgetxattr(ptr(p), ptr(name), ptr(buf), BigInt(size)));
  return got < 0 ? undefined : buf.subarray(0, got);
}

/**
 * Copies extended attributes from `src` to `dst` (neither followed if a symlink). Failures
 * go to `onError` and do not stop the copy, as BuildKit logs and ignores them.
 */
export function copyXattrs(src: string, dst: string, onError: (err: Error) => void = () => {}): void {
  const lib = getLibc();
  if (lib === null) return;
  const s = cString(src);
  const d = cString(dst);
  for (const name of listXattrs(lib, s)) {
    const n = cString(name);
    const value = getXattr(lib, s, n);
    if (value === undefined) continue;
    const data = value.length === 0 ? null : ptr(value);
    if (lib.lsetxattr(ptr(d), ptr(n), data, BigInt(value.length), 0) !== 0) onError(errnoError(lib, `lsetxattr ${name}`, dst));
  }
}
