// writeLayer → applyLayer gives back the same tree (modes, owners, times to the second, symlinks,
// hardlinks, xattrs, whiteouts, opaque dirs), for every compression; digests agree with
// system tools; output is deterministic.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { applyLayer } from "../../../src/core/image/layer-apply.ts";
import { writeLayer } from "../../../src/core/image/layer-write.ts";
import type { Compression } from "../../../src/core/image/compression.ts";
import type { Digest } from "../../../src/core/digest.ts";
import { cleanup, fileStream, isRoot, merged, sh, snapshot, tempDir } from "./fixtures.ts";
import { buildLower, buildPlain, buildUpper, changeLower } from "./trees.ts";

afterEach(cleanup);

const COMPRESSIONS: Compression[] = ["gzip", "zstd", "uncompressed"];
const CAT: Record<Compression, string> = { gzip: "gzip -dc", zstd: "zstd -dc", uncompressed: "cat" };
const MEDIA: Record<Compression, string> = {
  gzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  zstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  uncompressed: "application/vnd.oci.image.layer.v1.tar",
};

const sha256sum = (cmd: string) => `sha256:${sh(`${cmd} | sha256sum`).split(" ")[0]}` as Digest;

describe.each(COMPRESSIONS)("%s", (compression) => {
  test.skipIf(!isRoot)("overlay upper → layer → overlay upper gives the same tree", async () => {
    const upper = tempDir("upper");
    buildUpper(upper);
    const blob = join(tempDir("blob"), "layer");
    const written = await writeLayer({ upperDir: upper }, blob, compression);
    expect(written.mediaType).toBe(MEDIA[compression]);
    expect(written.digest).toBe(sha256sum(`cat ${blob}`));
    expect(written.diffID).toBe(sha256sum(`${CAT[compression]} ${blob}`));
    expect(written.size).toBe(Bun.file(blob).size);

    const target = tempDir("target");
    const applied = await applyLayer(fileStream(blob), target, { overlayWhiteouts: true, mediaType: written.mediaType });
    expect(applied.diffID).toBe(written.diffID);
    expect(applied.size).toBe(Number(sh(`${CAT[compression]} ${blob} | wc -c`).trim()));
    expect(snapshot(target)).toEqual(snapshot(upper));
  });

  test.skipIf(!isRoot)("overlay upper → layer → applied onto the lower tree deletes what it whites out", async () => {
    const upper = tempDir("upper");
    buildUpper(upper);
    const lowerSnap = (() => {
      const lower = tempDir("lower");
      buildLower(lower);
      return snapshot(lower);
    })();
    const blob = join(tempDir("blob"), "layer");
    await writeLayer({ upperDir: upper }, blob, compression);
    const target = tempDir("target");
    buildLower(target);
    await applyLayer(fileStream(blob), target);
    expect(snapshot(target)).toEqual(merged(lowerSnap, snapshot(upper)));
  });

  test("two full trees → layer → applied onto the lower tree gives the upper tree", async () => {
    const lower = tempDir("lower");
    buildLower(lower);
    const upper = tempDir("upper");
    sh(`cp -a ${lower}/. ${upper}/`);
    changeLower(upper);
    const blob = join(tempDir("blob"), "layer");
    const written = await writeLayer({ lower, upper }, blob, compression);
    const names = sh(`${CAT[compression]} ${blob} | tar -t`).trim().split("\n");
    expect(names).toEqual([
      "added/",
      "added/f",
      "added/g",
      "deep/",
      "deep/a/",
      "deep/a/b/",
      "deep/a/b/d",
      "dir-to-file",
      "etc/",
      "etc/sub/",
      "file-to-dir/",
      "file-to-dir/x",
      ".wh.gone",
      ".wh.gonedir",
      "same-secs",
    ]);
    const target = tempDir("target");
    buildLower(target);
    const applied = await applyLayer(fileStream(blob), target);
    expect(applied.diffID).toBe(written.diffID);
    expect(snapshot(target)).toEqual(snapshot(upper));
  });

  test("plain tree round trip; GNU tar reads the layer the same way", async () => {
    const upper = tempDir("upper");
    buildPlain(upper);
    const blob = join(tempDir("blob"), "layer");
    await writeLayer({ upperDir: upper }, blob, compression);
    const ours = tempDir("ours");
    await applyLayer(fileStream(blob), ours);
    expect(snapshot(ours)).toEqual(snapshot(upper));
    const gnu = tempDir("gnu");
    sh(`${CAT[compression]} ${blob} | tar -x -C ${gnu} --xattrs --xattrs-include='*' --numeric-owner -p`);
    expect(snapshot(gnu)).toEqual(snapshot(upper));
  });

  test("the same tree always gives the same bytes, to a path or a stream", async () => {
    const a = tempDir("a");
    const b = tempDir("b");
    buildPlain(a);
    buildPlain(b);
    const out = tempDir("blob");
    const first = await writeLayer({ upperDir: a }, join(out, "1"), compression);
    const second = await writeLayer({ upperDir: b }, join(out, "2"), compression);
    const chunks: Uint8Array[] = [];
    const third = await writeLayer({ upperDir: a }, new WritableStream({ write: (c) => void chunks.push(c) }), compression);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(Buffer.concat(chunks).equals(Buffer.from(await Bun.file(join(out, "1")).bytes()))).toBe(true);
  });
});

test("a tree written by GNU tar (PAX, nanosecond times, xattrs) applies the same", async () => {
  const src = tempDir("src");
  buildPlain(src);
  const blob = join(tempDir("blob"), "layer.tar");
  sh(`tar -c -C ${src} --format=posix --xattrs --xattrs-include='*' --numeric-owner -f ${blob} .`);
  const target = tempDir("target");
  const applied = await applyLayer(fileStream(blob), target);
  expect(applied.diffID).toBe(sha256sum(`cat ${blob}`));
  expect(snapshot(target)).toEqual(snapshot(src));
});

test("GNU-format long names ('L' entries) apply", async () => {
  const src = tempDir("src");
  buildPlain(src);
  const blob = join(tempDir("blob"), "layer.tar.gz");
  sh(`tar -cz -C ${src} --format=gnu --numeric-owner -f ${blob} long`);
  const target = tempDir("target");
  await applyLayer(fileStream(blob), target);
  expect(sh(`cd ${target} && find long -type f`).trim()).toBe(`long/${"d".repeat(120)}/${"f".repeat(150)}`);
});
