/**
 * Go's os.FileMode, the encoding fsutil's Stat.mode uses on the wire: permission bits in the low
 * nine bits, the type and the setuid/setgid/sticky flags as high bits (not POSIX st_mode).
 * Values are uint32; JavaScript's bit operators are signed, hence the `>>> 0`s.
 */
export const GoMode = {
  dir: 0x8000_0000,
  symlink: 1 << 27,
  device: 1 << 26,
  namedPipe: 1 << 25,
  socket: 1 << 24,
  setuid: 1 << 23,
  setgid: 1 << 22,
  charDevice: 1 << 21,
  sticky: 1 << 20,
  irregular: 1 << 19,
} as const;

/** os.ModeType: the bits that say a mode is not a regular file. */
export const GO_MODE_TYPE =
  (GoMode.dir | GoMode.symlink | GoMode.namedPipe | GoMode.socket | GoMode.device | GoMode.charDevice | GoMode.irregular) >>> 0;

const S_IFMT = 0o170000;
const S_IFSOCK = 0o140000;
const S_IFLNK = 0o120000;
const S_IFBLK = 0o060000;
const S_IFDIR = 0o040000;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;

/** st_mode → os.FileMode, as Go's os.Lstat does on Linux. */
export function toGoMode(stMode: number): number {
  let mode = stMode & 0o777;
  switch (stMode & S_IFMT) {
    case S_IFBLK:
      mode |= GoMode.device;
      break;
    case S_IFCHR:
      mode |= GoMode.device | GoMode.charDevice;
      break;
    case S_IFDIR:
      mode |= GoMode.dir;
      break;
    case S_IFIFO:
      mode |= GoMode.namedPipe;
      break;
    case S_IFLNK:
      mode |= GoMode.symlink;
      break;
    case S_IFSOCK:
      mode |= GoMode.socket;
      break;
  }
  if (stMode & S_ISUID) mode |= GoMode.setuid;
  if (stMode & S_ISGID) mode |= GoMode.setgid;
  if (stMode & S_ISVTX) mode |= GoMode.sticky;
  return mode >>> 0;
}

/** The bits chmod(2) takes for a Go mode: permissions plus setuid, setgid and sticky. */
export function chmodBits(goMode: number): number {
  let bits = goMode & 0o777;
  if (goMode & GoMode.setuid) bits |= S_ISUID;
  if (goMode & GoMode.setgid) bits |= S_ISGID;
  if (goMode & GoMode.sticky) bits |= S_ISVTX;
  return bits;
}

export type GoModeKind = "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket" | "irregular";

export function goModeKind(goMode: number): GoModeKind {
  if (goMode & GoMode.dir) return "dir";
  if (goMode & GoMode.symlink) return "symlink";
  if (goMode & GoMode.device) return goMode & GoMode.charDevice ? "char" : "block";
  if (goMode & GoMode.namedPipe) return "fifo";
  if (goMode & GoMode.socket) return "socket";
  if (goMode & GO_MODE_TYPE) return "irregular";
  return "file";
}

/** st_mode for mknod(2) of a device or fifo described by a Go mode. */
export function mknodMode(goMode: number): number {
  const kind = goModeKind(goMode);
  const type = kind === "char" ? S_IFCHR : kind === "fifo" ? S_IFIFO : S_IFBLK;
  return type | chmodBits(goMode);
}

/** Whether the receiver may ask for the data of an entry of this mode (fsutil: no type bits). */
export function canRequestData(goMode: number): boolean {
  return (goMode & GO_MODE_TYPE) === 0;
}
