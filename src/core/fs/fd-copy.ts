/**
 * File copies and links between two directories held open, through bun:ffi: each file costs
 * openat (source, O_NOFOLLOW), openat (target, O_CREAT|O_EXCL|O_NOFOLLOW), copy_file_range,
 * fchown when an owner is given, fchmod only where the umask took bits, futimens and two closes, with names
 * looked up in their directory rather than as whole paths. Node's copyFileSync plus chown,
 * chmod and utimes by path cost eleven calls a file, five of them walking the full path.
 *
 * Where libc cannot be opened (not glibc) callers get `undefined` from {@link openDirPair} and
 * keep to path-based calls.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { fstatSync, readSync, writeSync } from "node:fs";
import type { Digest } from "../digest.ts";
import { errnoError, errnoName, lastErrno, lazyLibc } from "../sys/libc.ts";

const AT_FDCWD = -100;
const O_RDONLY = 0o0;
const O_WRONLY = 0o1;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_DIRECTORY = 0o200000;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;
const NS = 1_000_000_000n;
/** copy_file_range moves at most this much a call (and the kernel caps it near 2 GiB). */
const RANGE = 1 << 30;

function openLibc() {
  return dlopen("libc.so.6", {
    openat: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.u32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    copy_file_range: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.u32], returns: FFIType.i64 },
    fchown: { args: [FFIType.i32, FFIType.u32, FFIType.u32], returns: FFIType.i32 },
    fchmod: { args: [FFIType.i32, FFIType.u32], returns: FFIType.i32 },
    futimens: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    linkat: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  }).symbols;
}

type Libc = ReturnType<typeof openLibc>;
const getLibc = lazyLibc(openLibc);

const encoder = new TextEncoder();
/** Two NUL-terminated name buffers (source and target of one call); names are at most 255 bytes. */
const names = [new Uint8Array(1024), new Uint8Array(1024)] as const;
/** Where each is encoded (room left for the NUL), and its address, taken once (as statx.ts does). */
const targets = [names[0].subarray(0, names[0].length - 1), names[1].subarray(0, names[1].length - 1)] as const;
const pointers = [ptr(names[0]), ptr(names[1])] as const;

function cName(name: string, slot: 0 | 1): ReturnType<typeof ptr> {
  const buf = names[slot];
  const { read, written } = encoder.encodeInto(name, targets[slot]);
  if (read < name.length || written >= buf.length - 1) throw Object.assign(new Error(`name too long: ${name}`), { code: "ENAMETOOLONG" });
  buf[written] = 0;
  return pointers[slot];
}

const times = new BigInt64Array(4);
/** Read once: reading it is a syscall that (in Node's API) also writes it. */
let processUmask: number | undefined;
const chunk = Buffer.allocUnsafe(256 * 1024);

/** What a copied file is to become: its size to copy, and the metadata to give it. */
export interface FileMeta {
  /** Bytes to copy: the size the caller saw (a file grown since then is copied up to it). */
  readonly size: number;
  /** st_mode; its permission, set-id and sticky bits are kept. */
  readonly mode: number;
  /** Owner to set (undefined: leave the creator's). */
  readonly uid?: number;
  readonly gid?: number;
  /** mtime (and atime unless given), in nanoseconds since the epoch. */
  readonly timeNs: bigint;
  readonly atimeNs?: bigint;
}

/** A copy made through a buffer: the sha256 of what was copied. */
export interface HashedCopy {
  readonly digest: Digest;
  readonly bytes: number;
  readonly stable: boolean;
}

/** A source and a target directory held open: copies and links by name between them. */
export class DirPair {
  readonly #lib: Libc;
  readonly src: number;
  readonly dst: number;
  readonly #umask: number;
  #closed = false;

  constructor(lib: Libc, src: number, dst: number) {
    this.#lib = lib;
    this.src = src;
    this.dst = dst;
    this.#umask = (processUmask ??= process.umask());
  }

  /**
   * Copies regular file `name` of the source directory to a new file `as` (default: the same
   * name) in the target directory, never through a symlink on either side; EEXIST when the
   * target exists.
   */
  copyFile(name: string, meta: FileMeta, as = name): void {
    this.#copyFile(name, meta, as, (from, to) => this.#copyData(from, to, meta.size, name));
  }

  /**
   * As copyFile, reading the data into a buffer to hash it on its way (sha256), for a caller
   * that needs both the copy and its content digest: one read of the source instead of two.
   * `stable`: the source still had the copied size, `ctimeNs` and `ino` afterwards.
   */
  copyFileHashed(name: string, meta: FileMeta, expect: { readonly ctimeNs: bigint; readonly ino: bigint }): HashedCopy {
    let result: HashedCopy | undefined;
    this.#copyFile(name, meta, name, (from, to) => {
      const hasher = new Bun.CryptoHasher("sha256");
      const bytes = readWrite(from, to, meta.size, hasher);
      const after = fstatSync(from, { bigint: true });
      const stable = bytes === meta.size && Number(after.size) === meta.size && after.ctimeNs === expect.ctimeNs && after.ino === expect.ino;
      result = { digest: `sha256:${hasher.digest("hex")}` as Digest, bytes, stable };
    });
    if (result === undefined) throw new Error(`copy ${name}: no data copied`);
    return result;
  }

  #copyFile(name: string, meta: FileMeta, as: string, copyData: (from: number, to: number) => void): void {
    const lib = this.#lib;
    const from = lib.openat(this.src, cName(name, 0), O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (from < 0) throw errnoError(`open ${name}`);
    try {
      const perm = meta.mode & 0o777;
      const to = lib.openat(this.dst, cName(as, 1), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm);
      if (to < 0) throw errnoError(`create ${as}`);
      try {
        copyData(from, to);
        // Always when asked: a new file's group may come from a set-gid directory, not from us.
        const chown = meta.uid !== undefined || meta.gid !== undefined;
        if (chown && lib.fchown(to, meta.uid ?? -1, meta.gid ?? -1) !== 0) throw errnoError(`chown ${name}`);
        // Created with perm less the umask (and no set-id or sticky bits): set what differs.
        if ((meta.mode & 0o7777) !== (perm & ~this.#umask)) {
          if (lib.fchmod(to, meta.mode & 0o7777) !== 0) throw errnoError(`chmod ${name}`);
        }
        setTimespec(0, meta.atimeNs ?? meta.timeNs);
        setTimespec(2, meta.timeNs);
        if (lib.futimens(to, ptr(times)) !== 0) throw errnoError(`set times of ${name}`);
      } finally {
        lib.close(to);
      }
    } finally {
      lib.close(from);
    }
  }

  /**
   * Links `name` of the source directory as `name` in the target directory (no symlink
   * followed). Returns the errno name on failure instead of throwing: callers choose.
   */
  link(name: string): string | undefined {
    // One name for both sides: encoded once (this runs for every unchanged file of a tree).
    const at = cName(name, 0);
    if (this.#lib.linkat(this.src, at, this.dst, at, 0) === 0) return undefined;
    return errnoName(lastErrno()) ?? "EIO";
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lib.close(this.src);
    this.#lib.close(this.dst);
  }

  #copyData(from: number, to: number, size: number, name: string): void {
    let left = size;
    while (left > 0) {
      const n = Number(this.#lib.copy_file_range(from, null, to, null, Math.min(left, RANGE), 0));
      if (n > 0) {
        left -= n;
        continue;
      }
      if (n === 0) return; // shrank since it was looked at: what was there is copied
      const code = errnoName(lastErrno());
      if (code === "EXDEV" || code === "ENOSYS" || code === "EINVAL" || code === "EOPNOTSUPP") return void readWrite(from, to, left);
      throw errnoError(`copy ${name}`);
    }
  }
}

/**
 * Up to `left` more bytes of `from` (at its offset) appended to `to`, through a buffer (and
 * `hasher`, when given); returns the bytes copied.
 */
function readWrite(from: number, to: number, left: number, hasher?: Bun.CryptoHasher): number {
  let copied = 0;
  while (left > 0) {
    const n = readSync(from, chunk, 0, Math.min(chunk.length, left), null);
    if (n <= 0) break;
    hasher?.update(chunk.subarray(0, n));
    for (let off = 0; off < n; ) off += writeSync(to, chunk, off, n - off);
    left -= n;
    copied += n;
  }
  return copied;
}

function setTimespec(at: number, ns: bigint): void {
  let sec = ns / NS;
  let nsec = ns % NS;
  if (nsec < 0n) [sec, nsec] = [sec - 1n, nsec + NS];
  times[at] = sec;
  times[at + 1] = nsec;
}

/**
 * Opens two directories (never following a symlink in the final component) for
 * {@link DirPair}; undefined when libc cannot be used here. Throws the open's errno error.
 */
export function openDirPair(src: string, dst: string): DirPair | undefined {
  const lib = getLibc();
  if (lib === null) return undefined;
  const s = openDirFd(lib, src);
  let d: number;
  try {
    d = openDirFd(lib, dst);
  } catch (err) {
    lib.close(s);
    throw err;
  }
  return new DirPair(lib, s, d);
}

function openDirFd(lib: Libc, path: string): number {
  const fd = lib.openat(AT_FDCWD, ptr(Buffer.from(`${path}\0`)), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0) throw errnoError(`open directory ${path}`);
  return fd;
}
