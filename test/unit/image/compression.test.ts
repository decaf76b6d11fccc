// Compression detection, decompression of multi-member/multi-frame streams, and the parallel
// chunked compressor checked against the system gzip, zstd and tar.
import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileSink } from "../../../src/core/image/byte-sink.ts";
import { ChunkCompressor } from "../../../src/core/image/chunk-compressor.ts";
import type { CompressorOptions } from "../../../src/core/image/chunk-compressor.ts";
import { compressionOfMediaType, decompressStream, detectCompression, layerMediaType } from "../../../src/core/image/compression.ts";
import type { Compression } from "../../../src/core/image/compression.ts";
import { cleanup, expectError, makeTar, sh, streamOf, tempDir } from "./fixtures.ts";

afterEach(cleanup);

const sha = (data: Uint8Array) => `sha256:${new Bun.CryptoHasher("sha256").update(data).digest("hex")}`;

async function compress(data: Uint8Array, compression: Compression, opts: CompressorOptions, piece = 4093): Promise<{ path: string; digest: string; diffID: string; size: number }> {
  const path = join(tempDir("blob"), "out");
  const c = new ChunkCompressor(compression, await fileSink(path), opts);
  for (let pos = 0; pos < data.length; pos += piece) await c.write(data.subarray(pos, pos + piece));
  return { path, ...(await c.end()) };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

describe("detection", () => {
  test("by magic bytes", () => {
    expect(detectCompression(new Uint8Array([0x1f, 0x8b, 8, 0]))).toBe("gzip");
    expect(detectCompression(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd]))).toBe("zstd");
    expect(detectCompression(new TextEncoder().encode("etc/passwd"))).toBe("uncompressed");
    expect(detectCompression(new Uint8Array([0x28, 0xb5]))).toBe("uncompressed");
  });

  test("by media type", () => {
    expect(compressionOfMediaType("application/vnd.oci.image.layer.v1.tar")).toBe("uncompressed");
    expect(compressionOfMediaType("application/vnd.oci.image.layer.v1.tar+gzip")).toBe("gzip");
    expect(compressionOfMediaType("application/vnd.oci.image.layer.v1.tar+zstd")).toBe("zstd");
    expect(compressionOfMediaType("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")).toBe("gzip");
    expect(compressionOfMediaType("application/vnd.docker.image.rootfs.diff.tar.gzip")).toBe("gzip");
    expect(compressionOfMediaType("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")).toBe("gzip");
    expect(compressionOfMediaType("application/vnd.oci.image.config.v1+json")).toBeUndefined();
    expect(layerMediaType("zstd")).toBe("application/vnd.oci.image.layer.v1.tar+zstd");
  });
});

describe("decompressStream", () => {
  const data = randomBytes(200_000);

  test("reads multi-member gzip written by the system gzip", async () => {
    const dir = tempDir("gz");
    writeFileSync(join(dir, "a"), data.subarray(0, 150_000));
    writeFileSync(join(dir, "b"), data.subarray(150_000));
    sh(`cd ${dir} && gzip -c a > ab.gz && gzip -c b >> ab.gz`);
    const { stream, compression } = await decompressStream(Bun.file(join(dir, "ab.gz")).stream());
    expect(compression).toBe("gzip");
    expect((await readAll(stream)).equals(data)).toBe(true);
  });

  test("reads multi-frame zstd written by the system zstd", async () => {
    const dir = tempDir("zst");
    writeFileSync(join(dir, "a"), data.subarray(0, 150_000));
    writeFileSync(join(dir, "b"), data.subarray(150_000));
    sh(`cd ${dir} && zstd -q -c a > ab.zst && zstd -q -c b >> ab.zst`);
    const { stream, compression } = await decompressStream(Bun.file(join(dir, "ab.zst")).stream());
    expect(compression).toBe("zstd");
    expect((await readAll(stream)).equals(data)).toBe(true);
  });

  test("passes uncompressed data through, whatever the chunking", async () => {
    const { stream, compression } = await decompressStream(streamOf(data, 1));
    expect(compression).toBe("uncompressed");
    expect((await readAll(stream)).equals(data)).toBe(true);
  });

  test("refuses a compressed media type on plain data", async () => {
    await expectError(
      decompressStream(streamOf(data), { mediaType: "application/vnd.oci.image.layer.v1.tar+zstd" }),
      "InvalidArgument",
      "data is not zstd-compressed (media type application/vnd.oci.image.layer.v1.tar+zstd)",
    );
  });
});

describe("ChunkCompressor", () => {
  const data = randomBytes(50_000);
  const small = { chunkSize: 8192, concurrency: 3 };

  test("gzip: independent members, one valid stream for gzip -dc, digests in one pass", async () => {
    const out = await compress(data, "gzip", small);
    const blob = Buffer.from(await Bun.file(out.path).bytes());
    const members = [...blob.entries()].filter(([i, b]) => b === 0x1f && blob[i + 1] === 0x8b && blob[i + 2] === 8).length;
    expect(members).toBeGreaterThanOrEqual(7);
    expect(Buffer.from(sh(`gzip -dc ${out.path} | base64 -w0`), "base64").equals(data)).toBe(true);
    expect(out.diffID).toBe(sha(data));
    expect(out.digest).toBe(sha(blob));
    expect(out.size).toBe(blob.length);
  });

  test("zstd: independent frames, one valid stream for zstd -dc", async () => {
    const out = await compress(data, "zstd", small);
    expect(Buffer.from(sh(`zstd -dc ${out.path} | base64 -w0`), "base64").equals(data)).toBe(true);
    expect(out.diffID).toBe(sha(data));
    expect(out.digest).toBe(sha(await Bun.file(out.path).bytes()));
  });

  test("uncompressed: the blob is the data and both digests agree", async () => {
    const out = await compress(data, "uncompressed", small);
    expect(Buffer.from(await Bun.file(out.path).bytes()).equals(data)).toBe(true);
    expect(out.digest).toBe(out.diffID);
  });

  test("a multi-member gzip tar lists with tar -tz", async () => {
    const tar = await makeTar(Array.from({ length: 20 }, (_, i) => ({ header: { name: `f${i}` }, content: randomBytes(3000) })));
    const out = await compress(tar, "gzip", { chunkSize: 4096 });
    expect(sh(`tar -tzf ${out.path}`).trim().split("\n")).toEqual(Array.from({ length: 20 }, (_, i) => `f${i}`));
    expect(sh(`gzip -dc ${out.path} | sha256sum`).split(" ")[0]).toBe(out.diffID.slice(7));
  });

  test("output depends on the bytes, not on how they were handed in", async () => {
    for (const compression of ["gzip", "zstd"] as const) {
      const a = await compress(data, compression, small, 1);
      const b = await compress(data, compression, { ...small, concurrency: 1 }, 50_000);
      expect(b.digest).toBe(a.digest);
    }
  });

  test("an empty input still makes a valid gzip stream", async () => {
    const out = await compress(new Uint8Array(0), "gzip", small);
    expect(sh(`gzip -dc ${out.path} | wc -c`).trim()).toBe("0");
  });
});
