import { createWriteStream, WriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { once } from "node:events";
import { dirname, posix, resolve } from "node:path";
import type { Writable } from "node:stream";
import { withContext } from "../../errors.ts";
import { walkTree } from "../../image/layer-walk.ts";
import { LayerTarWriter, type ByteWriter } from "../../image/tar-writer.ts";
import { NO_EXPORT_PROGRESS, platformDirName, type BuildResult, type Exporter, type ExporterInstance } from "../exporter.ts";
import { attestationFiles, type AttestationFile } from "../local/attestation-files.ts";
import { parseSourceDateEpoch, rejectUnknownAttrs, requireDest, SOURCE_DATE_EPOCH_ATTR } from "../spec.ts";

/**
 * `--output type=tar,dest=FILE|-`: the result's files as one tar stream, as BuildKit's tar
 * exporter writes it with fsutil's WriteTar over the local exporter's FS (see writeResult).
 * A file is written under a temporary name and renamed when complete; "-" streams to stdout.
 */
export function createTarExporter(opts: { stdout?: () => Writable } = {}): Exporter {
  return {
    type: "tar",
    resolve(attrs): ExporterInstance {
      // attestation-prefix: put before each attestation's file name (provenance.json); prefer-nondist-layers concerns image layers: accepted, unused.
      rejectUnknownAttrs("tar", attrs, ["dest", SOURCE_DATE_EPOCH_ATTR, "attestation-prefix", "prefer-nondist-layers"]);
      const prefix = attrs["attestation-prefix"] ?? "";
      const raw = requireDest("tar", attrs);
      const epoch = parseSourceDateEpoch("tar", attrs[SOURCE_DATE_EPOCH_ATTR]);
      const dest = raw === "-" ? "-" : resolve(raw);
      return {
        description: "exporting to client tarball",
        async export(result: BuildResult, signal: AbortSignal, progress = NO_EXPORT_PROGRESS) {
          const how: ExportOptions = { signal, epoch, prefix };
          try {
            await progress.step("sending tarball", () => (dest === "-" ? writeResult(result, opts.stdout ?? defaultStdout, how) : exportToFile(dest, result, how)));
          } catch (err) {
            throw withContext(`exporting tar to ${dest === "-" ? "stdout" : dest}`, err);
          }
          const response: Record<string, string> = dest === "-" ? {} : { "tar.dest": dest };
          return response;
        },
      };
    },
  };
}

interface ExportOptions {
  readonly signal: AbortSignal;
  /** source-date-epoch in seconds: every entry is dated with it. */
  readonly epoch: number | undefined;
  /** attestation-prefix: put before each statement file's name. */
  readonly prefix: string;
}

function defaultStdout(): Writable {
  return process.stdout;
}

async function exportToFile(dest: string, result: BuildResult, how: ExportOptions): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const partial = `${dest}.partial-${process.pid}`;
  try {
    await writeResult(result, () => createWriteStream(partial), how);
    await rename(partial, dest);
  } finally {
    await rm(partial, { force: true });
  }
}

const NS = 1_000_000_000n;

/**
 * The result as a tar on out, as BuildKit v0.11's tar exporter writes it: fsutil's WriteTar
 * over local.CreateFS's FS. Entries in fsutil's walk order (depth first, names in byte order,
 * no root entry, directories named with a trailing slash), a later path to a multiply linked
 * inode as a link to the first, fifos and devices as such, modes, owners, symlink targets and
 * xattrs as on disk, mtimes rounded to the second by Go's archive/tar; with source-date-epoch
 * every entry is dated the epoch. The attestation statement files (0600, 0:0, dated the epoch
 * or the export's start) are merged in at the root in walk order (staticfs's MergeFS, a
 * statement over a file of the same name). Several platforms: SubDirFS, a directory per
 * platform (0755, dated the epoch or the zero time) in name order, its files under it and
 * absolute symlink targets put under it. out is opened only once the first result is mounted
 * (a client's stream must not wait on a mount).
 */
async function writeResult(result: BuildResult, open: () => Writable, how: ExportOptions): Promise<void> {
  const epochNs = how.epoch === undefined ? undefined : BigInt(how.epoch) * NS;
  // BuildKit's defaultTime: time.Now().Truncate(time.Second), once per export.
  const nowNs = BigInt(Math.floor(Date.now() / 1000)) * NS;
  const parts = result.platforms
    ? result.platforms.map((p) => ({ subdir: platformDirName(p.id), result: p.result })).sort((a, b) => byteOrder(a.subdir, b.subdir))
    : [{ subdir: undefined, result }];
  let sink: StreamSink | undefined;
  const opened = (): StreamSink => (sink ??= new StreamSink(open(), how.signal));
  try {
    for (const { subdir, result: part } of parts) {
      await part.withMounted(async (dir) => {
        const statements = await attestationFiles(part, dir, how.prefix);
        const tar = new LayerTarWriter(opened(), {
          flavor: "fsutil",
          mtimeNs: epochNs,
          symlinkTarget: subdir === undefined ? undefined : (target) => (target.startsWith("/") ? goJoin(`/${subdir}`, target) : target),
        });
        if (subdir !== undefined) await tar.addSynthetic({ name: subdir, type: "dir", mode: 0o755, mtimeNs: 0n });
        await writeTree(tar, dir, subdir, statements, nowNs, how.signal);
      });
    }
    await new LayerTarWriter(opened()).end();
    await opened().close();
  } catch (err) {
    sink?.destroy(err);
    throw err;
  }
}

/** dir's entries (under subdir) with the statement files merged in by staticfs's key order. */
async function writeTree(tar: LayerTarWriter, dir: string, subdir: string | undefined, statements: readonly AttestationFile[], nowNs: bigint, signal: AbortSignal): Promise<void> {
  // MergeFS compares paths with "/" as NUL, which orders them as the walk does.
  const key = (path: string) => Buffer.from(path.replaceAll("/", "\0"));
  const pending = statements.map((file) => ({ file, key: key(file.name) })).sort((a, b) => Buffer.compare(a.key, b.key));
  const under = (name: string) => (subdir === undefined ? name : `${subdir}/${name}`);
  let next = 0;
  const writeStatement = (file: AttestationFile) => tar.addSynthetic({ name: under(file.name), type: "file", mode: 0o600, mtimeNs: nowNs, data: file.data });
  for await (const change of walkTree(subdir ?? "", dir, { overlay: false, mode: "fsutil" })) {
    if (change.kind !== "add") continue;
    signal.throwIfAborted();
    const own = key(subdir === undefined ? change.rel : change.rel.slice(subdir.length + 1));
    let replaced = false;
    for (let s = pending[next]; s !== undefined && Buffer.compare(s.key, own) <= 0; s = pending[++next]) {
      replaced = Buffer.compare(s.key, own) === 0;
      await writeStatement(s.file);
    }
    if (!replaced) await tar.add(change);
  }
  for (const s of pending.slice(next)) await writeStatement(s.file);
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Go's path.Join of an absolute directory and an absolute target: cleaned, no trailing slash. */
function goJoin(dir: string, target: string): string {
  const joined = posix.normalize(`${dir}/${target}`);
  return joined.length > 1 && joined.endsWith("/") ? joined.slice(0, -1) : joined;
}

const FLUSH_AT = 1 << 20;

/**
 * The tar's bytes to a stream: small writes gathered into writes of about 1 MiB (copied, so
 * the tar writer may reuse its buffers), waiting for the stream to drain when it asks.
 * process.stdout is never ended.
 */
class StreamSink implements ByteWriter {
  readonly #out: Writable;
  readonly #signal: AbortSignal;
  #pending: Buffer[] = [];
  #size = 0;
  #failed: Error | undefined;

  constructor(out: Writable, signal: AbortSignal) {
    this.#out = out;
    this.#signal = signal;
    out.on("error", (err: Error) => (this.#failed ??= err));
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.#pending.push(Buffer.from(chunk));
    this.#size += chunk.length;
    if (this.#size >= FLUSH_AT) await this.#flush();
  }

  async #flush(): Promise<void> {
    this.#signal.throwIfAborted();
    if (this.#failed) throw this.#failed;
    if (this.#size === 0) return;
    const data = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#size);
    this.#pending = [];
    this.#size = 0;
    if (!this.#out.write(data)) await once(this.#out, "drain", { signal: this.#signal });
  }

  /** Writes what is left and ends the stream (waiting for a file to be closed); stdout is flushed, not ended. */
  async close(): Promise<void> {
    await this.#flush();
    const out = this.#out;
    if (out === process.stdout) {
      await new Promise<void>((done, fail) => out.write(Buffer.alloc(0), (err) => (err ? fail(err) : done())));
      return;
    }
    // A file is renamed once its descriptor is closed; other streams may never emit "close".
    const done = once(out, out instanceof WriteStream ? "close" : "finish", { signal: this.#signal });
    out.end();
    await done;
    if (this.#failed) throw this.#failed;
  }

  destroy(err: unknown): void {
    if (this.#out !== process.stdout) this.#out.destroy(err instanceof Error ? err : new Error(String(err)));
  }
}
