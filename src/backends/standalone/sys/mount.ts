// Mounting Mount lists (containerd's form) with mount(2)/umount2(2) through bun:ffi.
//
// Options are read as containerd reads them: known flag words (ro, rw, bind, rbind, nosuid, …)
// become mount flags, propagation words (rprivate, …) a second call, and everything else the
// filesystem's data string joined by "," (overlay's lowerdir=…, tmpfs's size=…/mode=…).
import { mkdtemp, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Mount } from "../../../core/worker/mount.ts";
import { BuildkitError } from "../../../core/errors.ts";
import type { ErrorCode } from "../../../core/errors.ts";
import { clearVolatileMarker } from "./overlay-volatile.ts";
import { describeErrno, errnoName, getPageSize, MNT_DETACH, MS, sysMount, sysUmount2 } from "./libc.ts";

/** Flag words: [flag, true when the word clears the flag rather than setting it]. */
const FLAG_OPTIONS: Record<string, readonly [number, boolean]> = {
  async: [MS.SYNCHRONOUS, true],
  atime: [MS.NOATIME, true],
  bind: [MS.BIND, false],
  defaults: [0, false],
  dev: [MS.NODEV, true],
  diratime: [MS.NODIRATIME, true],
  dirsync: [MS.DIRSYNC, false],
  exec: [MS.NOEXEC, true],
  mand: [MS.MANDLOCK, false],
  noatime: [MS.NOATIME, false],
  nodev: [MS.NODEV, false],
  nodiratime: [MS.NODIRATIME, false],
  noexec: [MS.NOEXEC, false],
  nomand: [MS.MANDLOCK, true],
  norelatime: [MS.RELATIME, true],
  nostrictatime: [MS.STRICTATIME, true],
  nosuid: [MS.NOSUID, false],
  rbind: [MS.BIND | MS.REC, false],
  relatime: [MS.RELATIME, false],
  remount: [MS.REMOUNT, false],
  ro: [MS.RDONLY, false],
  rw: [MS.RDONLY, true],
  strictatime: [MS.STRICTATIME, false],
  suid: [MS.NOSUID, true],
  sync: [MS.SYNCHRONOUS, false],
};

const PROPAGATION_OPTIONS: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
};

interface ParsedOptions {
  flags: number;
  propagation: number;
  data: string[];
}

function parseOptions(options: readonly string[]): ParsedOptions {
  const parsed: ParsedOptions = { flags: 0, propagation: 0, data: [] };
  for (const option of options) {
    const flag = FLAG_OPTIONS[option];
    const propagation = PROPAGATION_OPTIONS[option];
    if (flag) parsed.flags = flag[1] ? parsed.flags & ~flag[0] : parsed.flags | flag[0];
    else if (propagation !== undefined) parsed.propagation |= propagation;
    else parsed.data.push(option);
  }
  return parsed;
}

/** The errno behind an error thrown by this module, if any. */
export function mountErrno(err: unknown): number | undefined {
  const cause = err instanceof Error ? err.cause : undefined;
  return cause instanceof Error && "errno" in cause && typeof cause.errno === "number" ? cause.errno : undefined;
}

const ERRNO_CODES: Record<string, ErrorCode> = {
  ENOENT: "NotFound",
  EINVAL: "InvalidArgument",
  EPERM: "FailedPrecondition",
  EACCES: "FailedPrecondition",
  EBUSY: "FailedPrecondition",
  ENODEV: "Unimplemented",
};

/** `mount overlay on /x: EINVAL (22)`, with a Node-style { code, errno } error as the cause. */
function syscallError(context: string, errno: number): BuildkitError {
  const name = errnoName(errno) ?? "EUNKNOWN";
  const cause = Object.assign(new Error(describeErrno(errno)), { code: name, errno });
  return new BuildkitError(ERRNO_CODES[name] ?? "Internal", `${context}: ${describeErrno(errno)}`, { cause });
}

function check(errno: number, context: string): void {
  if (errno !== 0) throw syscallError(context, errno);
}

/** Bits that a bind mount only takes from a second, remounting call. */
const PER_MOUNT_FLAGS = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME;

function mountBind(m: Mount, target: string, flags: number): void {
  const context = `mount bind ${m.source} on ${target}`;
  check(sysMount(m.source, target, null, flags & (MS.BIND | MS.REC), null), context);
  // mount(2) ignores ro/nosuid/… on the first MS_BIND call: they need a remount of the new mount.
  const perMount = flags & PER_MOUNT_FLAGS;
  if (perMount !== 0) check(sysMount("", target, null, MS.REMOUNT | MS.BIND | perMount, null), `remount ${target}`);
}

function mountFilesystem(m: Mount, target: string, parsed: ParsedOptions): void {
  const context = `mount ${m.type} on ${target}`;
  if (m.type === "overlay") clearVolatileMarker(parsed.data);
  const data = parsed.data.join(",");
  if (data.length < getPageSize()) {
    check(sysMount(m.source, target, m.type, parsed.flags, data === "" ? null : data), context);
    return;
  }
  if (m.type !== "overlay") {
    throw new BuildkitError("InvalidArgument", `${context}: options are ${data.length} bytes, over the page size ${getPageSize()}`);
  }
  mountOverlayRelative(m, target, parsed);
}

const PATH_KEYS = ["lowerdir", "upperdir", "workdir"];

/** The deepest directory holding every one of paths (all absolute). */
function commonDir(paths: readonly string[]): string {
  let common = (paths[0] ?? "/").split("/").slice(0, -1);
  for (const path of paths) {
    const parts = path.split("/").slice(0, -1);
    let n = 0;
    while (n < common.length && n < parts.length && common[n] === parts[n]) n++;
    common = common.slice(0, n);
  }
  return common.join("/") || "/";
}

/** Overlay data with its absolute paths made relative to their common directory, if that fits in max. */
export function shortenOverlayData(data: readonly string[], max: number): { dir: string; data: string } | undefined {
  const split = data.map((option) => {
    const eq = option.indexOf("=");
    const key = option.slice(0, eq);
    return PATH_KEYS.includes(key) ? { key, paths: option.slice(eq + 1).split(":") } : { key: option, paths: undefined };
  });
  const all = split.flatMap((o) => o.paths ?? []);
  if (all.length === 0 || !all.every((p) => p.startsWith("/"))) return undefined;
  const dir = commonDir(all);
  const prefix = dir === "/" ? 1 : dir.length + 1;
  const short = split.map((o) => (o.paths ? `${o.key}=${o.paths.map((p) => p.slice(prefix)).join(":")}` : o.key)).join(",");
  return short.length <= max ? { dir, data: short } : undefined;
}

/**
 * Overlay options longer than a page (many lowerdirs): mount(2) copies only one page of data, so
 * the paths are made relative to their common directory and the mount is done from there, the
 * way containerd does it. chdir is process-wide, but mount(2) is synchronous: no other JS runs
 * between the two chdir calls (code on other threads that uses relative paths would be affected;
 * the backend only uses absolute paths).
 */
function mountOverlayRelative(m: Mount, target: string, parsed: ParsedOptions): void {
  const context = `mount ${m.type} on ${target}`;
  const short = shortenOverlayData(parsed.data, getPageSize() - 1);
  if (short === undefined) {
    throw new BuildkitError("InvalidArgument", `${context}: options are over the page size ${getPageSize()} even with relative paths`);
  }
  const cwd = process.cwd();
  process.chdir(short.dir);
  try {
    check(sysMount(m.source, target, m.type, parsed.flags, short.data), context);
  } finally {
    process.chdir(cwd);
  }
}

function mountOne(m: Mount, target: string): void {
  const parsed = parseOptions(m.options);
  if (m.type === "bind" && (parsed.flags & MS.BIND) === 0) parsed.flags |= MS.BIND;
  if ((parsed.flags & MS.BIND) !== 0) mountBind(m, target, parsed.flags);
  else mountFilesystem(m, target, parsed);
  if (parsed.propagation !== 0) check(sysMount("", target, null, parsed.propagation, null), `set propagation of ${target}`);
}

/**
 * Mounts each of mounts on target in order (later ones stack on earlier ones, as containerd
 * does). When one fails, the ones already mounted are unmounted before the error is thrown.
 */
export function mountAll(mounts: readonly Mount[], target: string): void {
  for (const [i, m] of mounts.entries()) {
    try {
      mountOne(m, target);
    } catch (err) {
      for (let done = 0; done < i; done++) sysUmount2(target, MNT_DETACH);
      throw err;
    }
  }
}

export interface UnmountOptions {
  /** MNT_DETACH: detach now, clean up when no longer busy. */
  readonly detach?: boolean;
  /** Succeed when target is not a mount point (EINVAL) or does not exist (ENOENT). */
  readonly ignoreNotMounted?: boolean;
}

function isNotMounted(errno: number): boolean {
  const name = errnoName(errno);
  return name === "EINVAL" || name === "ENOENT";
}

/** Unmounts the topmost mount on target. */
export function unmount(target: string, opts: UnmountOptions = {}): void {
  const errno = sysUmount2(target, opts.detach ? MNT_DETACH : 0);
  if (errno === 0 || (opts.ignoreNotMounted && isNotMounted(errno))) return;
  throw syscallError(`unmount ${target}`, errno);
}

/** Guards against looping forever on a target that keeps reporting success. */
const MAX_STACKED = 128;

/** Unmounts every mount stacked on target (as mountAll makes them) until it is a plain dir. */
export function unmountAll(target: string, opts: Pick<UnmountOptions, "detach"> = {}): void {
  for (let i = 0; i < MAX_STACKED; i++) {
    const errno = sysUmount2(target, opts.detach ? MNT_DETACH : 0);
    if (errno === 0) continue;
    if (isNotMounted(errno)) return;
    throw syscallError(`unmount ${target}`, errno);
  }
  throw new BuildkitError("Internal", `unmount ${target}: still mounted after ${MAX_STACKED} unmounts`);
}

/** Unmounts dir (detaching when busy) and removes it; rmdir, never rm -rf, so nothing mounted is lost. */
async function release(dir: string): Promise<void> {
  try {
    unmountAll(dir);
  } catch (err) {
    if (errnoName(mountErrno(err) ?? 0) !== "EBUSY") throw err;
    unmountAll(dir, { detach: true });
  }
  await rmdir(dir);
}

export interface WithMountedOptions {
  /** Where the temporary mount point is made; the OS temp dir by default. */
  readonly parent?: string;
}

/**
 * Mounts mounts on a fresh temporary directory, runs fn with it, then unmounts and removes the
 * directory, also when fn throws (fn's error wins over a cleanup error).
 */
export async function withMounted<T>(
  mounts: readonly Mount[],
  fn: (dir: string) => Promise<T>,
  opts: WithMountedOptions = {},
): Promise<T> {
  const dir = await mkdtemp(join(opts.parent ?? tmpdir(), "buildkit-mount-"));
  try {
    mountAll(mounts, dir);
  } catch (err) {
    await rmdir(dir);
    throw err;
  }
  let result: T;
  try {
    result = await fn(dir);
  } catch (err) {
    await release(dir).catch(() => {});
    throw err;
  }
  await release(dir);
  return result;
}
