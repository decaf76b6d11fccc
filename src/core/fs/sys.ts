/**
 * The few libc calls file and layer ops need that Node lacks, through bun:ffi: utimensat with
 * nanoseconds and AT_SYMLINK_NOFOLLOW, mknod for device nodes and FIFOs, and the l*xattr
 * family (never following a final symlink); plus device numbers as glibc packs them. libc is
 * opened on first use; where it cannot be (not glibc), times fall back to fs.lutimes
 * (microsecond precision), listing xattrs yields nothing, copying them is skipped, and
 * setting one or mknod throws Unimplemented.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { lutimesSync } from "node:fs";
import { lutimes } from "node:fs/promises";
import { BuildkitError } from "../errors.ts";
import { cString, errnoError, errnoName, lastErrno, lazyLibc } from "../sys/libc.ts";

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
  });
}

const getLibc = lazyLibc(() => openLibc().symbols);

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
  if (lib.utimensat(AT_FDCWD, ptr(p), ptr(times), AT_SYMLINK_NOFOLLOW) !== 0) throw errnoError(`utimensat ${path}`);
}

/** {@link setTimes} without a promise, for loops of many small synchronous calls. */
export function setTimesSync(path: string, atimeNs: bigint, mtimeNs: bigint): void {
  const lib = getLibc();
  if (lib === null) {
    lutimesSync(path, Number(atimeNs) / 1e9, Number(mtimeNs) / 1e9);
    return;
  }
  const times = new BigInt64Array([...timespec(atimeNs), ...timespec(mtimeNs)]);
  const p = cString(path);
  if (lib.utimensat(AT_FDCWD, ptr(p), ptr(times), AT_SYMLINK_NOFOLLOW) !== 0) throw errnoError(`utimensat ${path}`);
}

/** mknod(2): creates a device node, FIFO or socket with the full st_mode and st_rdev. */
export function makeNode(path: string, mode: number, rdev: bigint): void {
  const lib = getLibc();
  if (lib === null) throw new BuildkitError("Unimplemented", `mknod ${path}: not supported on this platform`);
  const p = cString(path);
  if (lib.mknod(ptr(p), mode, rdev) !== 0) throw errnoError(`mknod ${path}`);
}

/** Attribute names of `path`; [] when it has none or the file system has no xattrs. */
export function listXattrs(path: string): string[] {
  const lib = getLibc();
  if (lib === null) return [];
  const p = cString(path);
  for (;;) {
    const size = Number(lib.llistxattr(ptr(p), null, 0n));
    if (size <= 0) return [];
    const buf = Buffer.alloc(size);
    const got = Number(lib.llistxattr(ptr(p), ptr(buf), BigInt(size)));
    if (got >= 0) return buf.subarray(0, got).toString("utf8").split("\0").filter((n) => n !== "");
    if (errnoName(lastErrno()) !== "ERANGE") return []; // grew in between: ask again
  }
}

/** One attribute's value, undefined when absent. */
export function getXattr(path: string, name: string): Uint8Array | undefined {
  const lib = getLibc();
  if (lib === null) return undefined;
  const p = cString(path);
  const n = cString(name);
  for (;;) {
    const size = Number(lib.lgetxattr(ptr(p), ptr(n), null, 0n));
    if (size < 0) return undefined;
    if (size === 0) return new Uint8Array(0);
    const buf = Buffer.alloc(size);
    const got = Number(lib.lgetxattr(ptr(p), ptr(n), ptr(buf), BigInt(size)));
    if (got >= 0) return buf.subarray(0, got);
    if (errnoName(lastErrno()) !== "ERANGE") return undefined;
  }
}

/** Sets one attribute; errors are Node-style (`code` is the errno name). */
export function setXattr(path: string, name: string, value: Uint8Array): void {
  const lib = getLibc();
  if (lib === null) throw new BuildkitError("Unimplemented", `setting xattr ${name} on ${path}: not supported on this platform`);
  const p = cString(path);
  const n = cString(name);
  const v = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const data = v.length === 0 ? null : ptr(v);
  if (lib.lsetxattr(ptr(p), ptr(n), data, BigInt(v.length), 0) !== 0) throw errnoError(`lsetxattr ${name} ${path}`);
}

/**
 * Copies extended attributes from `src` to `dst` (neither followed if a symlink). Failures
 * go to `onError` and do not stop the copy, as BuildKit logs and ignores them.
 */
export function copyXattrs(src: string, dst: string, onError: (err: Error) => void = () => {}): void {
  if (getLibc() === null) return;
  for (const name of listXattrs(src)) {
    const value = getXattr(src, name);
    if (value === undefined) continue;
    try {
      setXattr(dst, name, value);
    } catch (err) {
      onError(err as Error);
    }
  }
}

/** glibc's makedev(3). */
export function makeDev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

/** glibc's major(3) and minor(3). */
export function splitDev(dev: bigint): { major: number; minor: number } {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}
