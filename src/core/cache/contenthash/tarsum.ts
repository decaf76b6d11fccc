/**
 * The header part of BuildKit's per-file content hash (cache/contenthash/filehash.go and
 * tarsum.go): archive/tar's FileInfoHeader of the file's stat, written as docker's "v1 tarsum"
 * header selection. The name is left empty (a directory digest adds names itself), mtime is
 * left out, uname/gname are empty (FileInfoHeader cannot see them through fsutil's Stat), and
 * the link name is only there for symlinks.
 */

/** What the header is made of: st_mode (type and permission bits), owner, size, link, device. */
export interface HeaderStat {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
  /** Extended attributes by name; only security.capability and non-security/system ones count. */
  readonly xattrs?: ReadonlyMap<string, Uint8Array>;
}

const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** archive/tar's type flag for FileInfoHeader (sockets lose their type bit first: regular). */
function typeflag(mode: number): string {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return "5";
    case S_IFLNK:
      return "2";
    case S_IFCHR:
      return "3";
    case S_IFBLK:
      return "4";
    case S_IFIFO:
      return "6";
    default:
      return "0";
  }
}

/** Whether an xattr goes into the header: security.capability, and none of security.* or system.*. */
export function hashedXattr(name: string): boolean {
  return name === "security.capability" || (!name.startsWith("security.") && !name.startsWith("system."));
}

const utf8 = new TextEncoder();

/**
 * The v1 tarsum header bytes of a file, as BuildKit feeds them to sha256 before its content:
 * each field's name then its value, and after them the hashed xattrs sorted by name (byte
 * order), each name then its raw value bytes.
 */
export function tarsumHeader(st: HeaderStat): Uint8Array {
  const type = typeflag(st.mode);
  const isLink = type === "2";
  // FileInfoHeader: permission bits plus set-uid, set-gid and sticky; symlinks get 0777 first.
  const mode = (st.mode & 0o7777) | (isLink ? 0o777 : 0);
  const size = type === "0" ? st.size : 0;
  const fields: [string, string][] = [
    ["name", ""],
    ["mode", String(mode)],
    ["uid", String(st.uid)],
    ["gid", String(st.gid)],
    ["size", String(size)],
    ["typeflag", type],
    ["linkname", isLink ? st.linkname : ""],
    ["uname", ""],
    ["gname", ""],
    ["devmajor", String(st.devmajor)],
    ["devminor", String(st.devminor)],
  ];
  const parts: Uint8Array[] = [utf8.encode(fields.map(([k, v]) => k + v).join(""))];
  const names = [...(st.xattrs?.keys() ?? [])].filter(hashedXattr).map((k) => [k, Buffer.from(k, "utf8")] as const);
  names.sort((a, b) => Buffer.compare(a[1], b[1]));
  for (const [k, raw] of names) parts.push(raw, st.xattrs!.get(k)!);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
