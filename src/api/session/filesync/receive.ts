/**
 * The receiving side of fsutil's DiffCopy protocol (fsutil.Receive): read the sender's listing,
 * compare it with what `dest` already holds, write what differs, ask (REQ) for the data of the
 * regular files that differ, delete what the sender no longer lists, then say FIN and wait for
 * the sender's FIN and the end of its stream.
 *
 * Everything from the sender is untrusted: the listing is validated (validator.ts) before it
 * reaches the disk, and nothing is written outside `dest` nor through a symlink.
 */
import { mkdirSync } from "node:fs";
import { BuildkitError } from "../../../core/errors.ts";
import { Pacer } from "../../../core/fs/pacer.ts";
import { walkTree } from "../../../core/sources/local/walk.ts";
import { AsyncQueue } from "../../async-queue.ts";
import { diffListings } from "./diff.ts";
import type { NextStat } from "./diff.ts";
import { DiskWriter } from "./disk-writer.ts";
import type { FileWriter } from "./disk-writer.ts";
import { canRequestData, goModeKind } from "./file-mode.ts";
import { PacketType, controlPacket, errorPacket, packetSize } from "./packet.ts";
import type { Packet, Stat } from "./packet.ts";
import { runTasks } from "./run-tasks.ts";
import type { PacketStream } from "./send.ts";
import { StatMaker } from "./stat.ts";
import { StatValidator } from "./validator.ts";

export interface ReceiveOptions {
  /**
   * Write every entry sent and delete nothing (the client side of a local export) instead of
   * mirroring the sender (the daemon's copy of a `--local` directory).
   */
  readonly merge?: boolean;
  /** Sees, and may edit, each incoming stat before it is compared and written; false skips it. */
  readonly filter?: (path: string, stat: Stat) => boolean;
  /** Bytes received so far (encoded packet sizes, as fsutil counts them); `done` on the last call. */
  readonly onProgress?: (bytes: number, done: boolean) => void;
  readonly signal?: AbortSignal;
}

export interface ReceiveResult {
  /** Encoded size of every packet received. */
  readonly bytes: number;
  /** File data received. */
  readonly dataBytes: number;
  /** Files whose data was requested. */
  readonly files: number;
  /** Entries written (added or replaced) and deleted. */
  readonly written: number;
  readonly deleted: number;
}

/** Receives a tree from `stream` into `dest` (created if missing). */
export async function receiveDir(dest: string, stream: PacketStream, opts: ReceiveOptions = {}): Promise<ReceiveResult> {
  mkdirSync(dest, { recursive: true });
  const receiver = new Receiver(dest, stream, opts);
  try {
    await receiver.run();
  } catch (err) {
    receiver.abandon();
    if (!(err instanceof SenderError)) {
      await stream.send(errorPacket(err instanceof Error ? err.message : String(err))).catch(() => undefined);
    }
    throw err;
  } finally {
    opts.onProgress?.(receiver.result.bytes, true);
  }
  return receiver.result;
}

/** The sender reported an error: no need to tell it ours. */
class SenderError extends BuildkitError {}

class Receiver {
  readonly #dest: string;
  readonly #stream: PacketStream;
  readonly #opts: ReceiveOptions;
  readonly #abort = new AbortController();
  readonly #writer: DiskWriter;
  readonly #listing = new AsyncQueue<Stat>(1024);
  /** Path → ID of the files whose data may be requested. */
  readonly #ids = new Map<string, number>();
  /** ID → the file its DATA packets fill. */
  readonly #pending = new Map<number, FileWriter>();
  readonly #skipped = new WeakSet<Stat>();
  #onIdle: (() => void) | undefined;
  #result = { bytes: 0, dataBytes: 0, files: 0, written: 0, deleted: 0 };

  constructor(dest: string, stream: PacketStream, opts: ReceiveOptions) {
    this.#dest = dest;
    this.#stream = stream;
    this.#opts = opts;
    const uid = process.getuid?.() ?? -1;
    this.#writer = new DiskWriter(dest, { chown: uid === 0 });
  }

  get result(): ReceiveResult {
    return { ...this.#result };
  }

  run(): Promise<void> {
    const stop = () => this.#abort.abort(this.#opts.signal?.reason ?? this.#stream.signal.reason);
    this.#opts.signal?.addEventListener("abort", stop, { once: true });
    this.#stream.signal.addEventListener("abort", stop, { once: true });
    return runTasks(this.#abort, [() => this.#read(), () => this.#apply()]).finally(() => {
      this.#opts.signal?.removeEventListener("abort", stop);
      this.#stream.signal.removeEventListener("abort", stop);
    });
  }

  /** Closes files left open by a failure. */
  abandon(): void {
    for (const file of this.#pending.values()) file.abandon();
    this.#pending.clear();
    this.#listing.fail(new BuildkitError("Canceled", "receiving files: canceled"));
  }

  async #recv(): Promise<Packet | undefined> {
    const packet = await this.#stream.recv();
    if (packet !== undefined) {
      this.#result.bytes += packetSize(packet);
      this.#opts.onProgress?.(this.#result.bytes, false);
    }
    return packet;
  }

  async #read(): Promise<void> {
    const validator = new StatValidator();
    let id = 0;
    let listed = false;
    for (;;) {
      const packet = await this.#recv();
      if (packet === undefined) throw new BuildkitError("Unavailable", "receiving files: the sender ended the stream before it finished");
      switch (packet.type) {
        case PacketType.ERR:
          throw new SenderError("Unavailable", `receiving files: error from sender: ${new TextDecoder().decode(packet.data)}`);
        case PacketType.STAT: {
          if (listed) throw new BuildkitError("InvalidArgument", "receiving files: an entry after the end of the listing");
          const stat = packet.stat;
          if (!stat) {
            listed = true;
            this.#listing.close();
            break;
          }
          validator.check(stat);
          if (canRequestData(stat.mode)) this.#ids.set(stat.path, id);
          id++;
          await this.#listing.push(stat);
          break;
        }
        case PacketType.DATA:
          this.#data(packet);
          break;
        case PacketType.FIN:
          while ((await this.#recv()) !== undefined); // the sender is done: wait for its end
          return;
        default:
          break; // fsutil ignores anything else
      }
    }
  }

  #data(packet: Packet): void {
    const file = this.#pending.get(packet.ID);
    if (file === undefined) throw new BuildkitError("InvalidArgument", `receiving files: data for a file not requested (id ${packet.ID})`);
    if (packet.data.length > 0) {
      file.write(packet.data);
      this.#result.dataBytes += packet.data.length;
      return;
    }
    file.close();
    this.#pending.delete(packet.ID);
    if (this.#pending.size === 0) this.#onIdle?.();
  }

  async #apply(): Promise<void> {
    const pacer = new Pacer(`receiving files into ${this.#dest}`, this.#abort.signal);
    const current = this.#opts.merge ? async () => undefined : this.#currentListing();
    for await (const change of diffListings(current, this.#incoming())) {
      if (change.kind === "delete") {
        this.#writer.delete(change.path);
        this.#result.deleted++;
      } else if (!this.#skipped.has(change.stat)) {
        const file = this.#writer.write(change.stat);
        this.#result.written++;
        if (file) await this.#request(file);
      }
      const paused = pacer.tick();
      if (paused) await paused;
    }
    await this.#filesDone();
    this.#writer.finish();
    await this.#stream.send(controlPacket(PacketType.FIN));
  }

  async #request(file: FileWriter): Promise<void> {
    const id = this.#ids.get(file.path);
    if (id === undefined) throw new BuildkitError("Internal", `receiving files: no id for ${file.path}`);
    this.#ids.delete(file.path);
    this.#pending.set(id, file);
    this.#result.files++;
    await this.#stream.send(controlPacket(PacketType.REQ, id));
  }

  #filesDone(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#onIdle = resolve));
  }

  /** What `dest` holds now, in fsutil's order and shape. */
  #currentListing(): NextStat {
    const maker = new StatMaker(this.#dest);
    const walk = walkTree(this.#dest, { signal: this.#abort.signal });
    return async () => {
      const next = await walk.next();
      return next.done ? undefined : maker.make(next.value);
    };
  }

  /** The sender's listing, filtered, with owners mapped to ours when we cannot set them. */
  #incoming(): NextStat {
    const { filter } = this.#opts;
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    return async () => {
      const stat = await this.#listing.next();
      if (stat === undefined) return undefined;
      if (filter && !filter(stat.path, stat)) this.#skipped.add(stat);
      if (uid !== 0) [stat.uid, stat.gid] = [uid, gid];
      if (goModeKind(stat.mode) === "dir") this.#writer.noteDir(stat);
      return stat;
    };
  }
}

