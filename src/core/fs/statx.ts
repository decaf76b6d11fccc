/**
 * lstat of a name inside an open directory through bun:ffi's statx(2), decoded from one reused
 * buffer into only the fields a tree walk needs: no path walk from the root for every entry and
 * no BigIntStats object (a dozen BigInts) per call. Device numbers are packed as glibc's
 * makedev, as Node's stat reports them.
 *
 * Where libc has no statx (not glibc, or glibc before 2.28) {@link statxAvailable} is false and
 * callers keep to Node's lstat.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { errnoError, errnoName, lastErrno, lazyLibc } from "../sys/libc.ts";
import { makeDev } from "./sys.ts";

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
/** STATX_BASIC_STATS: type, mode, nlink, uid, gid, times, ino, size, blocks. */
const STATX_BASIC_STATS = 0x7ff;
const O_RDONLY = 0;
const O_DIRECTORY = 0o200000;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;
const NS = 1_000_000_000n;

function openLibc() {
  return dlopen("libc.so.6", {
    statx: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
    openat: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.u32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  }).symbols;
}

const getLibc = lazyLibc(openLibc);

export function statxAvailable(): boolean {
  return getLibc() !== null;
}

/** What a tree walk needs of lstat. */
export interface WalkStat {
  /** st_mode: type and permission bits. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  readonly size: number;
  /** Allocated 512-byte blocks. */
  readonly blocks: number;
  readonly ino: bigint;
  readonly dev: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
}

// struct statx (linux/stat.h), 256 bytes, one layout on every architecture: stx_nlink at 16,
// uid 20, gid 24, mode 28 (16 bits), ino 32, size 40, blocks 48, atime 64 (s64 sec, u32 nsec),
// ctime 96, mtime 112, rdev major 128, rdev minor 132, dev major 136, dev minor 140.
const raw = new ArrayBuffer(256);
const u32 = new Uint32Array(raw);
const u16 = new Uint16Array(raw);
const i64 = new BigInt64Array(raw);
const u64 = new BigUint64Array(raw);
const rawPtr = ptr(new Uint8Array(raw));
const encoder = new TextEncoder();
const nameBuf = new Uint8Array(4097);
/** Where a name is encoded: room for its terminating NUL left behind. */
const nameTarget = nameBuf.subarray(0, nameBuf.length - 1);
const namePtr = ptr(nameBuf);
let lastDev: { major: number; minor: number; dev: bigint } | undefined;

/** A 64-bit count as a number (sizes and block counts stay far below 2^53). */
function count(index: number): number {
  return u32[index * 2]! + u32[index * 2 + 1]! * 2 ** 32;
}

/** {@link WalkStat} and what a copy also keeps: atime and, for devices, rdev. */
export interface FullStat extends WalkStat {
  readonly atimeNs: bigint;
  readonly rdev: bigint;
}

/** {@link lstatAt} with atime and rdev too. */
export function lstatFullAt(dirfd: number, name: string): FullStat | undefined {
  const st = lstatAt(dirfd, name);
  if (st === undefined) return undefined;
  return { ...st, atimeNs: i64[8]! * NS + BigInt(u32[18]!), rdev: makeDev(u32[32]!, u32[33]!) };
}

/**
 * lstat of `name` relative to the directory open as `dirfd`, never following a final symlink;
 * undefined when nothing is there (ENOENT, ENOTDIR). Other failures throw errno errors.
 */
export function lstatAt(dirfd: number, name: string): WalkStat | undefined {
  if (statxRaw(dirfd, name) < 0) return undefined;
  return {
    nlink: u32[4]!,
    uid: u32[5]!,
    gid: u32[6]!,
    mode: u16[14]!,
    ino: u64[4]!,
    size: count(5),
    blocks: count(6),
    ctimeNs: i64[12]! * NS + BigInt(u32[26]!),
    mtimeNs: i64[14]! * NS + BigInt(u32[30]!),
    dev: statxDev(),
  };
}

/**
 * The words of the last {@link statxRaw} call's struct statx (indexes are byte offsets / 4, see
 * the layout above): read them before the next call. For walks that want a few fields of many
 * entries without an object, and no BigInt, per entry.
 */
export const statxWords: Readonly<Uint32Array> = u32;
/** The UTF-8 name of the last {@link statxRaw} call, its first {@link statxRaw}() bytes. */
export const statxNameBytes: Readonly<Uint8Array> = nameBuf;

/**
 * lstat of `name` in the directory open as `dirfd` into {@link statxWords}: the name's UTF-8
 * length, or -1 when nothing is there (ENOENT, ENOTDIR). Other failures throw errno errors.
 */
export function statxRaw(dirfd: number, name: string): number {
  const lib = getLibc();
  if (lib === null) throw new Error("statx is not available here");
  const { read, written } = encoder.encodeInto(name, nameTarget);
  if (read < name.length || written >= nameBuf.length - 1) throw Object.assign(new Error(`lstat ${name}: name too long`), { code: "ENAMETOOLONG" });
  nameBuf[written] = 0;
  if (lib.statx(dirfd, namePtr, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, rawPtr) !== 0) {
    const errno = lastErrno();
    const code = errnoName(errno);
    if (code === "ENOENT" || code === "ENOTDIR") return -1;
    throw errnoError(`lstat ${name}`, errno);
  }
  return written;
}

/**
 * {@link statxRaw} of a name already NUL-terminated in C memory (`namePtr`, e.g. inside a
 * directory's names encoded at once): 0, or the errno (nothing thrown, nothing encoded).
 */
export function statxAt(dirfd: number, namePtr: number): number {
  const lib = getLibc();
  if (lib === null) throw new Error("statx is not available here");
  return lib.statx(dirfd, namePtr, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, rawPtr) === 0 ? 0 : lastErrno();
}

/**
 * Opens the directory `namePtr` (NUL-terminated) inside the directory open as `dirfd`, refusing
 * a symlink: the fd, or minus the errno. Close with {@link closeDirectory}.
 */
export function openDirectoryAt(dirfd: number, namePtr: number): number {
  const lib = getLibc();
  if (lib === null) throw new Error("statx is not available here");
  const fd = lib.openat(dirfd, namePtr, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  return fd < 0 ? -lastErrno() : fd;
}

/** The device number of the last {@link statxRaw} call, packed as glibc's makedev. */
export function statxDev(): bigint {
  const major = u32[34]!;
  const minor = u32[35]!;
  if (lastDev?.major !== major || lastDev.minor !== minor) lastDev = { major, minor, dev: makeDev(major, minor) };
  return lastDev.dev;
}

/** Opens a directory for {@link lstatAt}, refusing a final symlink; close with {@link closeDirectory}. */
export function openDirectory(path: string): number {
  const lib = getLibc();
  if (lib === null) throw new Error("statx is not available here");
  const fd = lib.openat(AT_FDCWD, ptr(Buffer.from(`${path}\0`)), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0) throw errnoError(`open directory ${path}`);
  return fd;
}

export function closeDirectory(fd: number): void {
  getLibc()?.close(fd);
}

