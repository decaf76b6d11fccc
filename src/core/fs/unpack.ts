/**
 * ADD's archive unpacking (a copy action with attemptUnpackDockerCompatibility): a source that
 * is a tar archive, plain or gzip, zstd, bzip2 or xz compressed, is extracted into the
 * destination directory instead of copied, as BuildKit's file backend does with moby's Untar.
 * Extraction goes through the layer applier, so it is just as confined: no entry is written
 * outside the destination root, links cannot lead out of it, device nodes are refused.
 * Unlike a layer, `.wh.` names are ordinary files and nothing is deleted.
 */
import { lstat } from "node:fs/promises";
import { BuildkitError } from "../errors.ts";
import { applyLayer } from "../image/layer-apply.ts";
import { isZeroBlock, verifyChecksum } from "../image/tar-header.ts";
import { decompressStream } from "../image/compression.ts";

/** Compressions only a system program undoes: Bun has no native bzip2 or xz decoder. */
const EXTERNAL = [
  { magic: [0x42, 0x5a, 0x68], program: "bzip2", label: "bzip2" },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], program: "xz", label: "xz" },
] as const;

const TAR_BLOCK = 512;

type External = (typeof EXTERNAL)[number];

/** The compression only a system program undoes, by the file's magic bytes; else undefined. */
async function externalCompression(path: string): Promise<External | undefined> {
  const head = new Uint8Array(await Bun.file(path).slice(0, 6).arrayBuffer());
  return EXTERNAL.find((e) => e.magic.every((b, i) => head[i] === b));
}

/**
 * The uncompressed bytes of the archive at path (`ext`: its externalCompression). `done`
 * settles once an external decompressor has exited, rejecting with its failure (if any).
 */
async function uncompressed(path: string, display: string, ext: External | undefined): Promise<{ stream: ReadableStream<Uint8Array>; done: Promise<void> }> {
  if (ext === undefined) return { stream: (await decompressStream(Bun.file(path).stream())).stream, done: Promise.resolve() };
  const program = Bun.which(ext.program);
  if (program === null) {
    throw new BuildkitError("FailedPrecondition", `unpacking ${display}: ${ext.label}-compressed archives need the ${ext.program} program`);
  }
  const proc = Bun.spawn([program, "-dc"], { stdin: Bun.file(path), stdout: "pipe", stderr: "pipe" });
  const done = proc.exited.then(async (code) => {
    if (code === 0) return;
    const stderr = (await new Response(proc.stderr).text()).trim();
    throw new BuildkitError("InvalidArgument", `unpacking ${display}: ${ext.program}: ${stderr || `exit code ${code}`}`);
  });
  done.catch(() => {}); // observed by the caller; never an unhandled rejection meanwhile
  return { stream: proc.stdout as ReadableStream<Uint8Array>, done };
}

/** The first `n` bytes of a stream (fewer at its end); the rest is cancelled. */
async function firstBytes(stream: ReadableStream<Uint8Array>, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let have = 0;
  const reader = stream.getReader();
  try {
    while (have < n) {
      const r = await reader.read();
      if (r.done) break;
      const part = r.value.subarray(0, n - have);
      out.set(part, have);
      have += part.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return out.subarray(0, have);
}

/**
 * Whether host path `path` is a regular file holding a tar archive (possibly compressed): its
 * uncompressed data starts with a valid tar header. Anything else, unreadable data included,
 * is not an archive and is copied as it is.
 */
export async function isArchive(path: string): Promise<boolean> {
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isFile()) return false;
  // bzip2 or xz data with no program to read it: treated as an archive, so that unpacking
  // fails naming the missing program instead of silently copying the file.
  const ext = await externalCompression(path);
  if (ext !== undefined && Bun.which(ext.program) === null) return true;
  try {
    const { stream } = await uncompressed(path, path, ext);
    const block = await firstBytes(stream, TAR_BLOCK);
    if (block.length < TAR_BLOCK || isZeroBlock(block)) return false;
    verifyChecksum(block);
    return true;
  } catch {
    return false;
  }
}

/** Extracts the archive at host path `archive` into the existing host directory `dest`. */
export async function unpackArchive(archive: string, dest: string, opts: { display: string; signal?: AbortSignal }): Promise<void> {
  const { stream, done } = await uncompressed(archive, opts.display, await externalCompression(archive));
  try {
    await applyLayer(stream, dest, { plainArchive: true, signal: opts.signal });
  } catch (err) {
    await done.catch(() => {}); // a decompressor failure explains less than the extraction's
    const message = err instanceof Error ? err.message.replace(/^applying layer: /, "") : String(err);
    const code = err instanceof BuildkitError ? err.code : "Internal";
    throw new BuildkitError(code, `unpacking ${opts.display}: ${message}`, { cause: err });
  }
  await done;
}
