/**
 * Extended attributes of one path, never following a final symlink (llistxattr, lgetxattr,
 * lsetxattr through bun:ffi), and device numbers as glibc packs them. core/fs/sys.ts only
 * exports a whole-file xattr copy; layers need to read and set single attributes. Where libc
 * cannot be opened, listing yields nothing and setting throws Unimplemented.
 */
import { dlopen, FFIType, ptr, read } from "bun:ffi";
import { constants } from "node:os";
import { BuildkitError } from "../errors.ts";

function openLibc() {
  return dlopen("libc.so.6", {
    llistxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    lgetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    lsetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
}

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

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) if (!errnoNames.has(value)) errnoNames.set(value, name);

function errnoName(lib: Libc): string {
  const location = lib.__errno_location();
  const errno = location === null ? 0 : read.i32(location, 0);
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

function cString(s: string): Buffer {
  return Buffer.from(`${s}\0`, "utf8");
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
    if (errnoName(lib) !== "ERANGE") return []; // grew in between: ask again
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
    if (errnoName(lib) !== "ERANGE") return undefined;
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
  if (lib.lsetxattr(ptr(p), ptr(n), data, BigInt(v.length), 0) !== 0) {
    const code = errnoName(lib);
    throw Object.assign(new Error(`lsetxattr ${name} ${path}: ${code}`), { code });
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
