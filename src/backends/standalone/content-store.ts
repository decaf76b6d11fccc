/**
 * The standalone worker's blob store: ROOT/content/blobs/sha256/<hex>, as in an OCI image
 * layout. A blob is written to a temporary name beside its final place, hashed on the way, and
 * renamed in once complete and checked, so a present blob is always whole; committing one that
 * exists is a no-op. Temporary files a killed process left are swept when the worker opens.
 *
 * Writers use synchronous calls: a write of a downloaded chunk to the page cache takes
 * microseconds, while the promise form sends each one through Bun's thread pool and back; a
 * pulled image's manifest, config and layer chunks are on the critical path of a cold build.
 */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { hexOf, isDigest } from "../../core/digest.ts";
import type { Digest } from "../../core/digest.ts";
import { BuildkitError } from "../../core/errors.ts";
import type { ContentInfo, ContentStore, ContentWriter } from "../../core/worker/content-store.ts";
import { statePath } from "../../core/worker/storage.ts";

const TEMP_PREFIX = ".tmp-";
const TEMP_TTL_MS = 3600e3;

export class LocalContentStore implements ContentStore {
  readonly #blobs: string;
  /** Temporary files of this process's writers not yet renamed in or removed. */
  readonly #temps = new Set<string>();

  constructor(root: string) {
    this.#blobs = join(statePath(root, "content"), "blobs", "sha256");
  }

  #path(digest: Digest): string {
    if (!isDigest(digest)) throw new BuildkitError("InvalidArgument", `addressing blob: ${JSON.stringify(digest)} is not a sha256 digest`);
    return join(this.#blobs, hexOf(digest));
  }

  async info(digest: Digest): Promise<ContentInfo | undefined> {
    const path = this.#path(digest);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path, { throwIfNoEntry: false });
    } catch {
      return undefined; // unreadable counts as absent, as before
    }
    return st?.isFile() ? { digest, size: st.size } : undefined;
  }

  read(digest: Digest): ReadableStream<Uint8Array> {
    const path = this.#path(digest);
    let inner: ReadableStreamDefaultReader<Uint8Array> | undefined;
    // Opened on first pull, so a missing blob fails the stream with NotFound, not ENOENT.
    return new ReadableStream<Uint8Array>({
      async pull(c) {
        if (inner === undefined) {
          if (!(await Bun.file(path).exists())) throw new BuildkitError("NotFound", `reading blob ${digest}: not in the content store`);
          inner = Bun.file(path).stream().getReader() as ReadableStreamDefaultReader<Uint8Array>;
        }
        const { done, value } = await inner.read();
        if (done) c.close();
        else c.enqueue(value);
      },
      cancel: (reason) => inner?.cancel(reason),
    });
  }

  async writer(): Promise<ContentWriter> {
    mkdirSync(this.#blobs, { recursive: true });
    const temp = join(this.#blobs, `${TEMP_PREFIX}${process.pid}-${crypto.randomUUID()}`);
    this.#temps.add(temp);
    try {
      return new FileWriter(openSync(temp, "w"), temp, (d) => this.#path(d), () => this.#temps.delete(temp));
    } catch (err) {
      this.#temps.delete(temp);
      throw err;
    }
  }

  /** Whether a writer of this process left its temporary file (still writing, or its removal failed). */
  hasTemporaryFiles(): boolean {
    return this.#temps.size > 0;
  }

  async delete(digest: Digest): Promise<boolean> {
    const path = this.#path(digest);
    const present = (await stat(path).catch(() => undefined)) !== undefined;
    await rm(path, { force: true });
    return present;
  }

  async *list(): AsyncIterable<ContentInfo> {
    for (const name of await readdir(this.#blobs).catch(() => [] as string[])) {
      const digest = `sha256:${name}`;
      if (!isDigest(digest)) continue;
      const st = await stat(join(this.#blobs, name)).catch(() => undefined);
      if (st?.isFile()) yield { digest, size: st.size };
    }
  }

  /**
   * Removes temporary files a killed process left (older than an hour: a margin for a writer
   * that does not hold the root's lock); returns how many.
   */
  async sweep(now = Date.now()): Promise<number> {
    let n = 0;
    for (const name of await readdir(this.#blobs).catch(() => [] as string[])) {
      if (!name.startsWith(TEMP_PREFIX)) continue;
      const path = join(this.#blobs, name);
      const st = await stat(path).catch(() => undefined);
      if (st === undefined || now - st.mtimeMs < TEMP_TTL_MS) continue;
      await rm(path, { force: true });
      n++;
    }
    return n;
  }
}

class FileWriter implements ContentWriter {
  readonly #fd: number;
  readonly #temp: string;
  readonly #target: (d: Digest) => string;
  /** Called once the temporary file is gone (renamed in or removed). */
  readonly #gone: () => void;
  readonly #hasher = new Bun.CryptoHasher("sha256");
  #size = 0;
  #closed = false;

  constructor(fd: number, temp: string, target: (d: Digest) => string, gone: () => void) {
    this.#fd = fd;
    this.#temp = temp;
    this.#target = target;
    this.#gone = gone;
  }

  async write(chunk: Uint8Array): Promise<void> {
    // A raw descriptor, once closed, may already name another file: never write through it.
    if (this.#closed) throw new BuildkitError("Internal", "writing a blob: the writer is closed");
    this.#hasher.update(chunk);
    this.#size += chunk.byteLength;
    let off = 0;
    while (off < chunk.byteLength) off += writeSync(this.#fd, chunk, off);
  }

  async commit(expected: ContentInfo): Promise<void> {
    await this.#close();
    const actual = `sha256:${this.#hasher.digest("hex")}`;
    if (actual !== expected.digest || this.#size !== expected.size) {
      await this.#remove();
      throw new BuildkitError("FailedPrecondition", `storing blob ${expected.digest}: content is ${actual} (${this.#size} bytes), expected ${expected.size} bytes`);
    }
    try {
      renameSync(this.#temp, this.#target(expected.digest));
      this.#gone();
    } catch (err) {
      await this.#remove();
      throw new BuildkitError("Internal", `storing blob ${expected.digest}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  async abort(): Promise<void> {
    await this.#close().catch(() => undefined);
    await this.#remove();
  }

  async #remove(): Promise<void> {
    rmSync(this.#temp, { force: true });
    this.#gone();
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}
