// Edge cases of applying and writing: opaque markers after this layer's own entries, directory
// times and modes set last, failures that leave no partial blob, cancellation.
import { afterEach, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { applyLayer } from "../../../src/core/image/layer-apply.ts";
import { writeLayer } from "../../../src/core/image/layer-write.ts";
import { setXattr } from "../../../src/core/fs/sys.ts";
import { build, cleanup, expectError, isRoot, makeTar, streamOf, tempDir } from "./fixtures.ts";

afterEach(cleanup);

test("an opaque marker keeps what this layer added before it, whatever the order", async () => {
  const target = tempDir("target");
  build(target, { "d/lower": { file: "l" }, "d/sub/lower": { file: "l" }, "d/#early/x": { file: "x" } });
  const tar = await makeTar([
    { header: { name: "d/", type: "directory", mode: 0o755 } },
    { header: { name: "d/#early", type: "file" }, content: "added before the marker" },
    { header: { name: "d/.wh..wh..opq", type: "file" } },
    { header: { name: "d/sub/", type: "directory", mode: 0o755 } },
    { header: { name: "d/sub/new", type: "file" }, content: "n" },
  ]);
  await applyLayer(streamOf(tar), target);
  expect(readdirSync(join(target, "d")).sort()).toEqual(["#early", "sub"]);
  expect(readdirSync(join(target, "d/sub"))).toEqual(["new"]);
  expect(lstatSync(join(target, "d/#early")).isFile()).toBe(true);
});

test("directory modes and times are set after their contents", async () => {
  const target = tempDir("target");
  const mtime = new Date("2001-02-03T04:05:06Z");
  const tar = await makeTar([
    { header: { name: "ro/", type: "directory", mode: 0o555, mtime } },
    { header: { name: "ro/file", type: "file", mode: 0o444, mtime } },
  ]);
  await applyLayer(streamOf(tar), target);
  const st = lstatSync(join(target, "ro"));
  expect(st.mode & 0o7777).toBe(0o555);
  expect(st.mtime.toISOString()).toBe(mtime.toISOString());
});

test("a name with a NUL byte is refused", async () => {
  const target = tempDir("target");
  const tar = await makeTar([{ header: { name: "a\0b", type: "file", pax: { path: "a\0b" } }, content: "" }]);
  await expectError(applyLayer(streamOf(tar), target), "InvalidArgument", 'applying layer: entry "a\\u0000b": path contains a NUL byte');
});

test.skipIf(!isRoot)("an upper dir with overlay metacopy is refused and leaves no blob", async () => {
  const upper = tempDir("upper");
  writeFileSync(join(upper, "f"), "x");
  setXattr(join(upper, "f"), "trusted.overlay.metacopy", new Uint8Array(0));
  const blob = join(tempDir("blob"), "layer");
  await expectError(writeLayer({ upperDir: upper }, blob, "gzip"), "Unimplemented", "writing layer: f: overlay attribute trusted.overlay.metacopy is not supported");
  expect(existsSync(blob)).toBe(false);
});

test("writing is cancelled by the signal", async () => {
  const upper = tempDir("upper");
  mkdirSync(join(upper, "d"));
  const controller = new AbortController();
  controller.abort();
  const blob = join(tempDir("blob"), "layer");
  await expectError(writeLayer({ upperDir: upper }, blob, "zstd", { signal: controller.signal }), "Canceled", "writing layer: canceled");
  expect(existsSync(blob)).toBe(false);
});

test("a missing upper dir is NotFound", async () => {
  const blob = join(tempDir("blob"), "layer");
  const missing = join(tempDir("x"), "nope");
  await expectError(writeLayer({ upperDir: missing }, blob, "gzip"), "NotFound", `writing layer: ${missing}: no such file or directory`);
  expect(existsSync(blob)).toBe(false);
});

test("AUFS metadata entries are skipped", async () => {
  const target = tempDir("target");
  const tar = await makeTar([
    { header: { name: ".wh..wh.aufs", type: "file" } },
    { header: { name: "d/.wh..wh.orph", type: "directory" } },
    { header: { name: "d/f", type: "file" }, content: "f" },
  ]);
  await applyLayer(streamOf(tar), target, { overlayWhiteouts: isRoot });
  expect(readdirSync(target)).toEqual(["d"]);
  expect(readdirSync(join(target, "d"))).toEqual(["f"]);
});
