/**
 * The sending side of fsutil's DiffCopy protocol (fsutil.Send): walk the directory and send a
 * STAT packet per entry (then an empty STAT), answer each REQ with the file's data as DATA
 * chunks and an empty DATA, and answer the receiver's FIN with FIN.
 *
 * A file's ID is the index of its STAT in the listing (directories and links count too).
 */
import { closeSync, constants, openSync, readSync } from "node:fs";
import { posix } from "node:path";
import { BuildkitError } from "../../../core/errors.ts";
import { resolveLocalRoot, walkTree, isErrno } from "../../../core/sources/local/walk.ts";
import type { MessageStream } from "../session.ts";
import { AsyncQueue } from "../../async-queue.ts";
import { canRequestData, GoMode } from "./file-mode.ts";
import { PacketType, controlPacket, dataPacket, errorPacket, packetSize, statPacket } from "./packet.ts";
import type { Packet, Stat } from "./packet.ts";
import { runTasks } from "./run-tasks.ts";
import { StatMaker } from "./stat.ts";

export type PacketStream = MessageStream<Packet, Packet>;

export interface SendOptions {
  readonly includePatterns?: readonly string[];
  readonly excludePatterns?: readonly string[];
  /** Symlinks resolved into include patterns before the walk (fsutil's FollowPaths). */
  readonly followPaths?: readonly string[];
  /** Nanoseconds since the epoch to give every entry's ModTime (the local exporter's source-date-epoch). */
  readonly modTime?: number;
  /**
   * Send the tree as the contents of a directory of this name (mode 0755, fsutil's SubDirFS):
   * the local exporter's directory per platform. Paths and hard links are put under it, and
   * so are absolute symlink targets, as fsutil does.
   */
  readonly subdir?: string;
  /**
   * Files that are not in dir but sent as if they were at its top (a local export's attestation
   * statements, BuildKit's static FS merged with the result): mode 0600, uid and gid 0.
   */
  readonly extraFiles?: readonly { readonly name: string; readonly data: Uint8Array; readonly modTime: number }[];
  /** Bytes sent so far (encoded packet sizes, as fsutil counts them); `done` on the last call. */
  readonly onProgress?: (bytes: number, done: boolean) => void;
  readonly signal?: AbortSignal;
}

/** fsutil's buffer size: a DATA packet carries at most this much. */
export const CHUNK_SIZE = 32 * 1024;

/** Sends the filtered tree at `dir` on `stream`; resolves once the receiver's FIN is answered. */
export async function sendDir(dir: string, stream: PacketStream, opts: SendOptions = {}): Promise<void> {
  const root = await resolveLocalRoot(dir, dir);
  const sender = new Sender(root, stream, opts);
  try {
    await sender.run();
  } finally {
    sender.progress(0, true);
  }
}

interface Request {
  readonly id: number;
  readonly path: string;
}

class Sender {
  readonly #root: string;
  readonly #stream: PacketStream;
  readonly #opts: SendOptions;
  readonly #abort = new AbortController();
  /** ID → path of the files the receiver may still ask for. */
  readonly #files = new Map<number, string>();
  /** ID → contents of the extra files the receiver may still ask for. */
  readonly #extra = new Map<number, Uint8Array>();
  readonly #requests = new AsyncQueue<Request>();
  #sent = 0;

  constructor(root: string, stream: PacketStream, opts: SendOptions) {
    this.#root = root;
    this.#stream = stream;
    this.#opts = opts;
  }

  run(): Promise<void> {
    const stop = () => this.#abort.abort(this.#opts.signal?.reason ?? this.#stream.signal.reason);
    this.#opts.signal?.addEventListener("abort", stop, { once: true });
    this.#stream.signal.addEventListener("abort", stop, { once: true });
    return runTasks(this.#abort, [() => this.#walk(), () => this.#read(), () => this.#serveFiles()]).finally(() => {
      this.#opts.signal?.removeEventListener("abort", stop);
      this.#stream.signal.removeEventListener("abort", stop);
      this.#requests.close();
    });
  }

  progress(bytes: number, done: boolean): void {
    this.#sent += bytes;
    this.#opts.onProgress?.(this.#sent, done);
  }

  async #send(packet: Packet): Promise<void> {
    await this.#stream.send(packet);
    this.progress(packetSize(packet), false);
  }

  async #walk(): Promise<void> {
    const { includePatterns: include, excludePatterns: exclude, followPaths } = this.#opts;
    const maker = new StatMaker(this.#root, { xattrs: true });
    const { subdir } = this.#opts;
    let id = 0;
    try {
      if (subdir !== undefined) {
        const dir = { path: subdir, mode: (GoMode.dir | 0o755) >>> 0, uid: 0, gid: 0, size: 0, modTime: this.#opts.modTime ?? 0, linkname: "", devmajor: 0, devminor: 0, xattrs: {} };
        id++;
        await this.#send(statPacket(dir));
      }
      const walk = walkTree(this.#root, { include, exclude, followPaths, signal: this.#abort.signal });
      // Extra files go where the walk's order puts them: before the first entry whose top-level name sorts after theirs.
      const extras = [...(this.#opts.extraFiles ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const sendExtrasBefore = async (top: string | undefined) => {
        while (extras.length > 0 && (top === undefined || extras[0]!.name < top)) {
          const file = extras.shift()!;
          const stat = { path: file.name, mode: 0o600, uid: 0, gid: 0, size: file.data.byteLength, modTime: this.#opts.modTime ?? file.modTime, linkname: "", devmajor: 0, devminor: 0, xattrs: {} };
          this.#extra.set(id, file.data);
          this.#files.set(id, file.name);
          id++;
          if (subdir !== undefined) underSubdir(stat, subdir);
          await this.#send(statPacket(stat));
        }
      };
      for await (const entry of walk) {
        const stat = maker.make(entry);
        await sendExtrasBefore(stat.path.split("/")[0]);
        if (this.#opts.modTime !== undefined) stat.modTime = this.#opts.modTime;
        if (canRequestData(stat.mode)) this.#files.set(id, stat.path);
        id++;
        if (subdir !== undefined) underSubdir(stat, subdir);
        await this.#send(statPacket(stat));
      }
      await sendExtrasBefore(undefined);
    } catch (err) {
      await this.#stream.send(errorPacket(err instanceof Error ? err.message : String(err))).catch(() => undefined);
      throw err;
    }
    await this.#send(statPacket());
  }

  async #read(): Promise<void> {
    for (;;) {
      const packet = await this.#stream.recv();
      if (packet === undefined) throw new BuildkitError("Unavailable", "sending files: the receiver ended the stream before it finished");
      switch (packet.type) {
        case PacketType.ERR:
          throw new BuildkitError("Unavailable", `sending files: error from receiver: ${new TextDecoder().decode(packet.data)}`);
        case PacketType.REQ:
          await this.#requests.push(this.#takeFile(packet.ID));
          break;
        case PacketType.FIN:
          this.#requests.close();
          await this.#stream.send(controlPacket(PacketType.FIN));
          return;
        default:
          break; // fsutil ignores anything else
      }
    }
  }

  #takeFile(id: number): Request {
    const path = this.#files.get(id);
    if (path === undefined) throw new BuildkitError("InvalidArgument", `sending files: invalid file id ${id}`);
    this.#files.delete(id);
    return { id, path };
  }

  async #serveFiles(): Promise<void> {
    for (let request = await this.#requests.next(); request; request = await this.#requests.next()) {
      await this.#sendFile(request);
    }
  }

  /** Streams one file; reads are synchronous (a 32 KiB read is cheaper than a thread-pool hop). */
  async #sendFile({ id, path }: Request): Promise<void> {
    const extra = this.#extra.get(id);
    if (extra !== undefined) {
      this.#extra.delete(id);
      for (let at = 0; at < extra.byteLength; at += CHUNK_SIZE) await this.#send(dataPacket(id, extra.subarray(at, at + CHUNK_SIZE)));
      await this.#send(dataPacket(id));
      return;
    }
    const fd = openFile(`${this.#root}/${path}`);
    if (fd !== undefined) {
      try {
        let buf = Buffer.allocUnsafeSlow(CHUNK_SIZE);
        for (;;) {
          if (this.#abort.signal.aborted) throw this.#abort.signal.reason;
          const n = readSync(fd, buf, 0, CHUNK_SIZE, null);
          if (n === 0) break;
          // A short read gets a copy of its own so the big buffer can be reused.
          const chunk = n < CHUNK_SIZE / 4 ? Buffer.from(buf.subarray(0, n)) : buf.subarray(0, n);
          if (chunk.buffer === buf.buffer) buf = Buffer.allocUnsafeSlow(CHUNK_SIZE);
          await this.#send(dataPacket(id, chunk));
        }
      } catch (err) {
        throw new BuildkitError("Internal", `sending file ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      } finally {
        closeSync(fd);
      }
    }
    await this.#send(dataPacket(id));
  }
}

/**
 * Opens a file the walk saw as regular, never through a symlink. A file gone or changed into
 * something unreadable (a socket, a link) since the walk is sent empty, as fsutil does.
 */
function openFile(abs: string): number | undefined {
  try {
    return openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR", "ENXIO", "ELOOP")) return undefined;
    throw new BuildkitError("Internal", `opening ${abs}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** A stat moved under subdir, as fsutil's SubDirFS walks: the path, a hard link's earlier path, an absolute symlink's target. */
function underSubdir(stat: Stat, subdir: string): void {
  stat.path = `${subdir}/${stat.path}`;
  if (stat.linkname === "") return;
  if ((stat.mode & GoMode.symlink) !== 0) {
    if (stat.linkname.startsWith("/")) stat.linkname = posix.join(`/${subdir}`, stat.linkname);
  } else stat.linkname = posix.join(subdir, stat.linkname);
}
