/**
 * Layer changes as tar bytes: one header per change (tar-header.ts), file contents streamed
 * from disk in 1 MiB reads, a second path to an already written inode as a tar hardlink, and
 * whiteouts as empty `.wh.` entries with zero mode, owner and time, so the output depends
 * only on the tree. Ends with two zero blocks, as Go's archive/tar does.
 *
 * The same writer, with `{ flavor: "fsutil" }`, writes what fsutil's WriteTar writes for
 * BuildKit's tar exporter (see TarWriterOptions).
 */
import { closeSync, constants, openSync, readSync } from "node:fs";
import { readlink } from "node:fs/promises";
import type { BigIntStats } from "node:fs";
import { BuildkitError } from "../errors.ts";
import { splitDev } from "../fs/sys.ts";
import { BLOCK, encodeHeader, padding } from "./tar-header.ts";
import type { EntryType, GoTarFormat, TarHeader } from "./tar-header.ts";
import type { AddChange, LayerChange } from "./layer-walk.ts";
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from "./whiteout.ts";

export interface ByteWriter {
  /** The caller may reuse `chunk` once this resolves. */
  write(chunk: Uint8Array): Promise<void>;
}

const READ_CHUNK = 1 << 20;
const ZEROS = new Uint8Array(2 * BLOCK);

/**
 * How entries are written. "containerd" (the default) is containerd's diff writer for layers:
 * mtimes truncated to the second, inodes told apart by dev:ino, a link entry without xattrs,
 * sockets refused (the walk skips them). "fsutil" is fsutil's WriteTar through Go's
 * archive/tar with no format: mtimes rounded to the nearest second, inodes told apart by
 * number alone and any non-directory but a symlink written as a link to its first path (a
 * hard-linked symlink stays a symlink), a link entry keeping xattrs and device numbers, and a
 * socket an empty regular file (fsutil clears its type bit).
 */
export interface TarWriterOptions {
  readonly flavor?: "containerd" | "fsutil";
  /** Every entry's mtime before the seconds rule, in ns: source-date-epoch (fsutil's Map). */
  readonly mtimeNs?: bigint;
  /** Rewrites a symlink's target (fsutil's SubDirFS puts absolute ones under its directory). */
  readonly symlinkTarget?: (target: string) => string;
}

/** An entry that is not on disk: a directory, or a file whose bytes are given. */
export interface SyntheticEntry {
  readonly name: string;
  readonly type: "dir" | "file";
  readonly mode: number;
  readonly mtimeNs: bigint;
  readonly data?: Uint8Array;
}

function typeOf(st: BigIntStats, fsutil: boolean): EntryType | undefined {
  if (st.isFile() || (fsutil && st.isSocket())) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  if (st.isFIFO()) return "fifo";
  return undefined;
}

/** An empty regular entry: a whiteout or an opaque marker. */
function markerHeader(name: string): TarHeader {
  return { name, type: "file", mode: 0, uid: 0, gid: 0, size: 0, mtimeNs: 0n, linkname: "", devmajor: 0, devminor: 0, xattrs: [] };
}

function markerName(change: LayerChange): string {
  if (change.kind === "opaque") return `${change.rel}/${OPAQUE_MARKER}`;
  const slash = change.rel.lastIndexOf("/");
  return `${change.rel.slice(0, slash + 1)}${WHITEOUT_PREFIX}${change.rel.slice(slash + 1)}`;
}

export class LayerTarWriter {
  readonly #out: ByteWriter;
  /** "dev:ino" of multiply-linked inodes already written → their entry name. */
  readonly #links = new Map<string, string>();
  readonly #buf = Buffer.allocUnsafe(READ_CHUNK);
  readonly #fsutil: boolean;
  readonly #opts: TarWriterOptions;
  /** Go's Header.Format for the entries: containerd's FormatPAX, fsutil's none. */
  readonly #format: GoTarFormat;

  constructor(out: ByteWriter, opts: TarWriterOptions = {}) {
    this.#out = out;
    this.#opts = opts;
    this.#fsutil = opts.flavor === "fsutil";
    this.#format = this.#fsutil ? "unknown" : "pax";
  }

  async add(change: LayerChange): Promise<void> {
    // containerd writes whiteouts with no Header.Format, other entries with FormatPAX; fsutil
    // never sets one.
    if (change.kind !== "add") return this.#out.write(encodeHeader(markerHeader(markerName(change)), { format: "unknown" }));
    const header = await this.#header(change);
    await this.#out.write(encodeHeader(header, { format: this.#format }));
    if (header.type !== "file" || header.size === 0) return;
    await this.#copy(change.host, header.size, change.rel);
    const pad = padding(header.size);
    if (pad > 0) await this.#out.write(ZEROS.subarray(0, pad));
  }

  /** Writes an entry that is not on disk; owned by 0:0, its mtime as add's. */
  async addSynthetic(entry: SyntheticEntry): Promise<void> {
    const size = entry.type === "file" ? (entry.data?.length ?? 0) : 0;
    const name = entry.type === "dir" && !entry.name.endsWith("/") ? `${entry.name}/` : entry.name;
    const mtimeNs = this.#seconds(this.#opts.mtimeNs ?? entry.mtimeNs);
    await this.#out.write(encodeHeader({ name, type: entry.type, mode: entry.mode & 0o7777, uid: 0, gid: 0, size, mtimeNs, linkname: "", devmajor: 0, devminor: 0, xattrs: [] }, { format: this.#format }));
    if (size === 0 || entry.data === undefined) return;
    await this.#out.write(entry.data);
    const pad = padding(size);
    if (pad > 0) await this.#out.write(ZEROS.subarray(0, pad));
  }

  /** Writes the end-of-archive marker. */
  async end(): Promise<void> {
    await this.#out.write(ZEROS);
  }

  async #header(change: AddChange): Promise<TarHeader> {
    const { st, rel } = change;
    const type = typeOf(st, this.#fsutil);
    if (type === undefined) throw new BuildkitError("InvalidArgument", `${rel}: unsupported file type`);
    const dev = type === "char" || type === "block" ? splitDev(st.rdev) : { major: 0, minor: 0 };
    const target = type === "symlink" ? await readlink(change.host) : "";
    const header: TarHeader = {
      name: type === "dir" ? `${rel}/` : rel,
      type,
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: type === "file" && !st.isSocket() ? Number(st.size) : 0,
      mtimeNs: this.#seconds(this.#opts.mtimeNs ?? st.mtimeNs),
      linkname: target !== "" && this.#opts.symlinkTarget ? this.#opts.symlinkTarget(target) : target,
      devmajor: dev.major,
      devminor: dev.minor,
      xattrs: change.xattrs,
    };
    if (type === "dir" || st.nlink < 2n) return header;
    const key = this.#fsutil ? `${st.ino}` : `${st.dev}:${st.ino}`;
    const first = this.#links.get(key);
    if (first === undefined) {
      this.#links.set(key, rel);
      return header;
    }
    if (this.#fsutil) return type === "symlink" ? header : { ...header, type: "hardlink", linkname: first, size: 0 };
    return { ...header, type: "hardlink", linkname: first, size: 0, xattrs: [] };
  }

  /**
   * Whole seconds: rounded to the nearest (halves up), as Go's archive/tar writes a header with
   * no format (fsutil); else rounded down, as containerd's diff writer truncates them for
   * BuildKit (no PAX mtime record).
   */
  #seconds(ns: bigint): bigint {
    return this.#fsutil ? roundToSecond(ns) : floorToSecond(ns);
  }

  /** Streams exactly `size` bytes of the file (never following a symlink swapped in). */
  async #copy(host: string, size: number, rel: string): Promise<void> {
    const fd = openSync(host, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      for (let left = size; left > 0; ) {
        const n = readSync(fd, this.#buf, 0, Math.min(left, READ_CHUNK), null);
        if (n === 0) throw new BuildkitError("FailedPrecondition", `${rel}: file shrank while the layer was written`);
        await this.#out.write(this.#buf.subarray(0, n));
        left -= n;
      }
    } finally {
      closeSync(fd);
    }
  }
}

const NS_PER_SECOND = 1_000_000_000n;

/** ns rounded down to a whole second (Go's Time.Truncate(time.Second)). */
export function floorToSecond(ns: bigint): bigint {
  const r = ns % NS_PER_SECOND;
  return r < 0n ? ns - r - NS_PER_SECOND : ns - r;
}

/** ns rounded to the nearest second, halves up (Go's Time.Round(time.Second)). */
export function roundToSecond(ns: bigint): bigint {
  const down = floorToSecond(ns);
  return 2n * (ns - down) < NS_PER_SECOND ? down : down + NS_PER_SECOND;
}
