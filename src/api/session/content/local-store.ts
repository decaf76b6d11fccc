/**
 * Client side of BuildKit's session/content: a directory as containerd's local content store
 * (content/local), the layout of a local cache (DIR/blobs/sha256/HEX). Writes go to an ingest
 * file under DIR/ingest (named by the hash of the writer's ref, so a ref never names a path),
 * hashed as they arrive; COMMIT checks size and digest before renaming the file into blobs/,
 * so a blob is visible only whole and verified. Every digest the daemon names is validated
 * before it becomes a path, so no request reaches outside DIR.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { isDigest, type Digest } from "../../../core/digest.ts";
import { BuildkitError } from "../../../core/errors.ts";

export interface BlobInfo {
  readonly digest: Digest;
  readonly size: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface IngestStatus {
  readonly ref: string;
  readonly offset: number;
  readonly total: number;
  readonly startedAt: Date;
  readonly updatedAt: Date;
}

/** Bytes per ReadContent reply (containerd's contentserver uses 1 MiB). */
const READ_CHUNK = 1 << 20;

function checkDigest(value: string): Digest {
  if (!isDigest(value)) throw new BuildkitError("InvalidArgument", `${JSON.stringify(value)} is not a sha256 digest`);
  return value;
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

/** One open write: its file, its running hash and how far it got. */
export class Ingest {
  readonly ref: string;
  readonly startedAt = new Date();
  updatedAt = new Date();
  offset = 0;
  total = 0;
  expected: Digest | undefined;
  #hash: Hash = createHash("sha256");
  readonly #file: FileHandle;
  readonly #path: string;
  readonly #store: LocalContentStore;

  constructor(store: LocalContentStore, ref: string, path: string, file: FileHandle) {
    this.#store = store;
    this.ref = ref;
    this.#path = path;
    this.#file = file;
  }

  /** What the writer says the blob will be (a later message may say it). */
  expect(total: number, expected: string): void {
    if (total > 0) this.total = total;
    if (expected !== "") this.expected = checkDigest(expected);
  }

  status(): IngestStatus {
    return { ref: this.ref, offset: this.offset, total: this.total, startedAt: this.startedAt, updatedAt: this.updatedAt };
  }

  /** Starts over (containerd truncates when a write comes at offset 0 of a started ingest). */
  async truncate(): Promise<void> {
    await this.#file.truncate(0);
    this.#hash = createHash("sha256");
    this.offset = 0;
  }

  async write(data: Uint8Array): Promise<void> {
    let done = 0;
    while (done < data.byteLength) {
      const { bytesWritten } = await this.#file.write(data, done, data.byteLength - done, this.offset + done);
      done += bytesWritten;
    }
    this.#hash.update(data);
    this.offset += data.byteLength;
    this.updatedAt = new Date();
  }

  /** Verifies size and digest, then renames the file into blobs/: the blob appears whole or not at all. */
  async commit(total: number, expected: string): Promise<Digest> {
    const size = total > 0 ? total : this.total;
    if (size > 0 && size !== this.offset) {
      throw new BuildkitError("FailedPrecondition", `commit of ${this.ref}: ${this.offset} bytes written, expected size ${size}`);
    }
    const got = `sha256:${this.#hash.copy().digest("hex")}` as Digest;
    const want = expected !== "" ? checkDigest(expected) : this.expected;
    if (want !== undefined && want !== got) {
      throw new BuildkitError("FailedPrecondition", `commit of ${this.ref}: unexpected commit digest ${got}, expected ${want}`);
    }
    await this.#file.sync();
    await this.#file.close();
    const target = this.#store.blobPath(got);
    if (await this.#store.info(got).catch(() => undefined)) {
      await this.#store.dropIngest(this.ref);
      throw new BuildkitError("AlreadyExists", `content ${got}: already exists`);
    }
    await mkdir(join(target, ".."), { recursive: true });
    await rename(this.#path, target);
    await this.#store.dropIngest(this.ref);
    return got;
  }

  async close(): Promise<void> {
    await this.#file.close().catch(() => undefined);
  }
}

/** A directory as a content store (containerd's content/local, without labels). */
export class LocalContentStore {
  readonly dir: string;
  readonly #ingests = new Map<string, Ingest>();
  readonly #held = new Set<string>();

  constructor(dir: string) {
    this.dir = dir;
  }

  blobPath(digest: Digest): string {
    return join(this.dir, "blobs", "sha256", digest.slice("sha256:".length));
  }

  #ingestDir(ref: string): string {
    return join(this.dir, "ingest", createHash("sha256").update(ref).digest("hex"));
  }

  async info(digest: string): Promise<BlobInfo> {
    const d = checkDigest(digest);
    const st = await stat(this.blobPath(d)).catch((err: unknown) => {
      if (isNotFound(err)) throw new BuildkitError("NotFound", `content ${d}: not found`);
      throw err;
    });
    if (!st.isFile()) throw new BuildkitError("NotFound", `content ${d}: not found`);
    return { digest: d, size: st.size, createdAt: st.birthtime, updatedAt: st.mtime };
  }

  /** The blob's bytes from offset, size of them (0: to the end), in chunks of at most 1 MiB. */
  async *read(digest: string, offset: number, size: number): AsyncGenerator<{ offset: number; data: Uint8Array }> {
    const info = await this.info(digest);
    if (offset < 0 || offset > info.size) throw new BuildkitError("InvalidArgument", `read of ${info.digest} at ${offset}: the blob has ${info.size} bytes`);
    const end = size > 0 ? Math.min(info.size, offset + size) : info.size;
    if (end === offset) return;
    let at = offset;
    const stream = createReadStream(this.blobPath(info.digest), { start: offset, end: end - 1, highWaterMark: READ_CHUNK });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      yield { offset: at, data: new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) };
      at += chunk.byteLength;
    }
  }

  async delete(digest: string): Promise<void> {
    const d = checkDigest(digest);
    await unlink(this.blobPath(d)).catch((err: unknown) => {
      if (isNotFound(err)) throw new BuildkitError("NotFound", `content ${d}: not found`);
      throw err;
    });
  }

  async list(): Promise<BlobInfo[]> {
    const names = await readdir(join(this.dir, "blobs", "sha256")).catch((err: unknown) => {
      if (isNotFound(err)) return [] as string[];
      throw err;
    });
    const out: BlobInfo[] = [];
    for (const name of names) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const info = await this.info(`sha256:${name}`).catch(() => undefined);
      if (info) out.push(info);
    }
    return out;
  }

  /**
   * Opens (or resumes) the ingest `ref` for one writer at a time; another writer on the same
   * ref is Unavailable, as containerd's ref lock. `expected` already stored is AlreadyExists.
   */
  async openIngest(ref: string, total: number, expected: string): Promise<Ingest> {
    if (ref === "") throw new BuildkitError("InvalidArgument", "first message must have a reference");
    if (expected !== "") checkDigest(expected); // before any file is opened for it
    if (expected !== "" && (await this.info(expected).catch(() => undefined))) {
      throw new BuildkitError("AlreadyExists", `content ${expected}: already exists`);
    }
    if (this.#held.has(ref)) throw new BuildkitError("Unavailable", `ref ${ref} locked`);
    let ingest = this.#ingests.get(ref);
    if (ingest === undefined) {
      const dir = this.#ingestDir(ref);
      await mkdir(dir, { recursive: true });
      const path = join(dir, "data");
      ingest = new Ingest(this, ref, path, await open(path, "w+"));
      this.#ingests.set(ref, ingest);
    }
    ingest.expect(total, expected);
    this.#held.add(ref);
    return ingest;
  }

  /** The writer of `ref` is gone; the ingest stays for a later writer to resume or abort. */
  release(ref: string): void {
    this.#held.delete(ref);
  }

  status(ref: string): IngestStatus {
    const ingest = this.#ingests.get(ref);
    if (ingest === undefined) throw new BuildkitError("NotFound", `ingest ${ref}: not found`);
    return ingest.status();
  }

  /** Drops the ingest `ref` and its file. */
  async abort(ref: string): Promise<void> {
    if (!this.#ingests.has(ref)) throw new BuildkitError("NotFound", `ingest ${ref}: not found`);
    await this.dropIngest(ref);
  }

  async dropIngest(ref: string): Promise<void> {
    const ingest = this.#ingests.get(ref);
    this.#ingests.delete(ref);
    this.#held.delete(ref);
    await ingest?.close();
    await rm(this.#ingestDir(ref), { recursive: true, force: true });
  }

  /** Removes every unfinished ingest (the session is over), and DIR/ingest if left empty. */
  async close(): Promise<void> {
    for (const ref of [...this.#ingests.keys()]) await this.dropIngest(ref);
    const ingestRoot = join(this.dir, "ingest");
    if ((await readdir(ingestRoot).catch(() => ["?"])).length === 0) await rm(ingestRoot, { recursive: true, force: true });
  }
}
