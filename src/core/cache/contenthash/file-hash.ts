/**
 * One file's content digest as BuildKit's contenthash computes it when it scans a snapshot
 * (prepareDigest): sha256 over the tarsum header of its lstat and xattrs, then its content for a
 * regular file, streamed.
 */
import { createReadStream, promises as fsp } from "node:fs";
import type { BigIntStats } from "node:fs";
import { withContext } from "../../errors.ts";
import { getXattr, listXattrs } from "../../fs/sys.ts";
import { hashedXattr, S_IFDIR, tarsumHeader } from "./tarsum.ts";
import type { HeaderStat } from "./tarsum.ts";

/** Linux's major and minor of a device number (glibc's gnu_dev_major / gnu_dev_minor). */
function devParts(rdev: bigint): { devmajor: number; devminor: number } {
  return {
    devmajor: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    devminor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
  };
}

export function headerStat(st: BigIntStats, linkname: string, xattrs?: ReadonlyMap<string, Uint8Array>): HeaderStat {
  const mode = Number(st.mode);
  // filehash_unix.go reads the device numbers of anything but a directory.
  const dev = (mode & 0o170000) === S_IFDIR ? { devmajor: 0, devminor: 0 } : devParts(st.rdev);
  const out = { mode, uid: Number(st.uid), gid: Number(st.gid), size: Number(st.size), linkname, ...dev };
  return xattrs?.size ? { ...out, xattrs } : out;
}

/**
 * The xattrs of `full` (not followed) that the header includes, as filehash_unix.go reads them
 * (llistxattr, then lgetxattr of each; one that vanished in between is left out). Only the
 * hashed names are read: security.* other than security.capability, and system.*, never count.
 */
export function hashedXattrs(full: string): Map<string, Uint8Array> | undefined {
  let out: Map<string, Uint8Array> | undefined;
  for (const name of listXattrs(full)) {
    if (!hashedXattr(name)) continue;
    const value = getXattr(full, name);
    if (value !== undefined) (out ??= new Map()).set(name, value);
  }
  return out;
}

/**
 * The digest of the file at `full` (never followed), content streamed for regular files.
 * `resetOwner`: hash it as owned by 0:0, as BuildKit's clients send local files (buildctl and
 * buildx map every uid and gid to 0).
 */
export async function fileDigest(full: string, opts: { readonly resetOwner?: boolean } = {}): Promise<string> {
  try {
    const st = await fsp.lstat(full, { bigint: true });
    const linkname = st.isSymbolicLink() ? await fsp.readlink(full) : "";
    const hash = new Bun.CryptoHasher("sha256");
    const header = headerStat(st, linkname, hashedXattrs(full));
    hash.update(tarsumHeader(opts.resetOwner ? { ...header, uid: 0, gid: 0 } : header));
    if (st.isFile() && st.size > 0n) {
      for await (const chunk of createReadStream(full, { highWaterMark: 64 * 1024 })) hash.update(chunk as Buffer);
    }
    return `sha256:${hash.digest("hex")}`;
  } catch (err) {
    throw withContext(`hashing file ${full}`, err);
  }
}
