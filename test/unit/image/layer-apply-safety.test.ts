// Hostile layers: every one is refused with an exact message or confined to the target, and
// nothing is ever written beside the target (it sits alone in a sentinel parent).
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { applyLayer } from "../../../src/core/image/layer-apply.ts";
import type { ApplyOptions } from "../../../src/core/image/layer-apply.ts";
import { cleanup, expectError, expectOnlyTarget, isRoot, makeTar, sandbox, streamOf, tempDir } from "./fixtures.ts";
import type { TarItem } from "./fixtures.ts";

afterEach(cleanup);

const PASSWD = readFileSync("/etc/passwd");

async function apply(items: readonly TarItem[], opts: ApplyOptions = {}): Promise<{ parent: string; target: string; run: Promise<unknown> }> {
  const { parent, target } = sandbox();
  const tar = await makeTar(items);
  return { parent, target, run: applyLayer(streamOf(tar), target, opts) };
}

async function refused(items: readonly TarItem[], message: string, opts: ApplyOptions = {}): Promise<string> {
  const { parent, target, run } = await apply(items, opts);
  await expectError(run, "InvalidArgument", message);
  expectOnlyTarget(parent);
  expect(readFileSync("/etc/passwd").equals(PASSWD)).toBe(true);
  return target;
}

async function accepted(items: readonly TarItem[], opts: ApplyOptions = {}): Promise<string> {
  const { parent, target, run } = await apply(items, opts);
  await run;
  expectOnlyTarget(parent);
  expect(readFileSync("/etc/passwd").equals(PASSWD)).toBe(true);
  return target;
}

const file = (name: string, content = "pwned"): TarItem => ({ header: { name, type: "file", mode: 0o644 }, content });
const symlink = (name: string, linkname: string): TarItem => ({ header: { name, type: "symlink", linkname } });
const hardlink = (name: string, linkname: string): TarItem => ({ header: { name, type: "link", linkname } });

describe("names", () => {
  test("../ traversal is refused", async () => {
    await refused([file("../../etc/passwd")], 'applying layer: entry "../../etc/passwd": path escapes the layer root');
    await refused([file("a/../../x")], 'applying layer: entry "a/../../x": path escapes the layer root');
  });

  test("an absolute name is taken relative to the root", async () => {
    const target = await accepted([file("/abs/file", "inside")]);
    expect(readFileSync(join(target, "abs/file"), "utf8")).toBe("inside");
  });

  test("an absolute name that climbs out is refused", async () => {
    await refused([file("/../escape")], 'applying layer: entry "/../escape": path escapes the layer root');
  });

  test("a name over 4096 bytes is refused", async () => {
    await refused([file(`a/${"n".repeat(4998)}`)], "applying layer: invalid tar: name too long: 5000 bytes (limit 4096)");
  });

  test("a PAX header over 1 MiB is refused before it is buffered", async () => {
    const huge: TarItem = { header: { name: "big", type: "file", pax: { comment: "x".repeat(2 << 20) } }, content: "" };
    await refused([huge], "applying layer: invalid tar: PAX header too large: 2097181 bytes (limit 1048576)");
  });

  test("a header with a bad checksum is refused", async () => {
    const { parent, target } = sandbox();
    const tar = await makeTar([file("ok")]);
    tar[0] = "x".charCodeAt(0);
    await expectError(applyLayer(streamOf(tar), target), "InvalidArgument", "applying layer: invalid tar: header checksum mismatch");
    expectOnlyTarget(parent);
  });

  test("a whiteout of '.' is refused", async () => {
    await refused([file("a/.wh..")], 'applying layer: entry "a/.wh..": invalid whiteout name "."');
  });
});

describe("symlinks never lead outside", () => {
  // Names no host has, so that a regression cannot clobber a real file such as /etc/passwd.
  const ESCAPE = `buildkit-ts-escape-${process.pid}`;

  test("a file through a symlink to /etc lands in the root's etc", async () => {
    const target = await accepted([symlink("a", "/etc"), file(`a/${ESCAPE}`)]);
    expect(readlinkSync(join(target, "a"))).toBe("/etc");
    expect(readFileSync(join(target, "etc", ESCAPE), "utf8")).toBe("pwned");
    expect(existsSync(join("/etc", ESCAPE))).toBe(false);
  });

  test("a file through a relative symlink climbing out lands inside", async () => {
    const target = await accepted([symlink("a", "../../../.."), file(`a/${ESCAPE}`)]);
    expect(readFileSync(join(target, ESCAPE), "utf8")).toBe("pwned");
    expect(existsSync(join("/", ESCAPE))).toBe(false);
  });

  test("a symlink chain that escapes is resolved inside", async () => {
    const target = await accepted([symlink("l1", "l2"), symlink("l2", "../../../../tmp"), file(`l1/${ESCAPE}`)]);
    expect(readFileSync(join(target, "tmp", ESCAPE), "utf8")).toBe("pwned");
    expect(existsSync(join("/tmp", ESCAPE))).toBe(false);
  });

  test("a symlink to an absolute host path is followed inside the root", async () => {
    const outside = tempDir("outside");
    writeFileSync(join(outside, "victim"), "untouched");
    const target = await accepted([symlink("s", outside), file("s/victim"), file("s/.wh.victim")]);
    expect(readdirSync(outside)).toEqual(["victim"]);
    expect(readFileSync(join(outside, "victim"), "utf8")).toBe("untouched");
    expect(existsSync(join(target, outside.slice(1)))).toBe(true);
  });

  test("a symlink already in the target (a lower layer's) is followed inside the root", async () => {
    const outside = tempDir("outside");
    const { parent, target } = sandbox();
    symlinkSync(outside, join(target, "lib"));
    await applyLayer(streamOf(await makeTar([file("lib/x", "inside")])), target);
    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(join(target, outside.slice(1), "x"), "utf8")).toBe("inside");
    expectOnlyTarget(parent);
  });

  test("an entry replaces an existing symlink instead of writing through it", async () => {
    const outside = tempDir("outside");
    writeFileSync(join(outside, "victim"), "untouched");
    const { parent, target } = sandbox();
    symlinkSync(join(outside, "victim"), join(target, "link"));
    await applyLayer(streamOf(await makeTar([file("link", "replaced")])), target);
    expect(lstatSync(join(target, "link")).isFile()).toBe(true);
    expect(readFileSync(join(outside, "victim"), "utf8")).toBe("untouched");
    expectOnlyTarget(parent);
  });
});

describe("hardlinks", () => {
  test("to a path outside the root is refused", async () => {
    await refused([hardlink("x", "../../etc/passwd")], 'applying layer: entry "x": hardlink target "../../etc/passwd" escapes the layer root');
  });

  test("to a missing target is refused", async () => {
    await refused([hardlink("x", "nope")], 'applying layer: entry "x": hardlink target "nope" does not exist');
  });

  test("through a symlink to /etc looks inside the root, not at the host's /etc", async () => {
    await refused([symlink("s", "/etc"), hardlink("x", "s/passwd")], 'applying layer: entry "x": hardlink target "s/passwd" does not exist');
  });

  test("to a directory is refused", async () => {
    const dir: TarItem = { header: { name: "d", type: "directory", mode: 0o755 } };
    await refused([dir, hardlink("x", "d")], 'applying layer: entry "x": hardlink target "d" is a directory');
  });

  test("within the layer share the inode", async () => {
    const target = await accepted([file("a", "same"), hardlink("b", "a")]);
    expect(lstatSync(join(target, "b")).ino).toBe(lstatSync(join(target, "a")).ino);
  });
});

describe("devices", () => {
  const dev: TarItem = { header: { name: "dev/null", type: "character-device", mode: 0o666, devmajor: 1, devminor: 3 } };

  test("are refused unless allowed", async () => {
    await refused([dev], 'applying layer: entry "dev/null": device nodes are not allowed');
    const block: TarItem = { header: { name: "sda", type: "block-device", devmajor: 8, devminor: 0 } };
    await refused([block], 'applying layer: entry "sda": device nodes are not allowed');
  });

  test.skipIf(!isRoot)("are made when allowed", async () => {
    const target = await accepted([dev], { allowDevices: true });
    const st = lstatSync(join(target, "dev/null"));
    expect(st.isCharacterDevice()).toBe(true);
    expect(st.rdev).toBe(0x103);
  });

  test("FIFOs need no privilege", async () => {
    const target = await accepted([{ header: { name: "p", type: "fifo", mode: 0o600 } }]);
    expect(lstatSync(join(target, "p")).isFIFO()).toBe(true);
  });
});

describe("the stream", () => {
  test("a gzip media type on plain data is refused", async () => {
    await refused([file("a")], "applying layer: data is not gzip-compressed (media type application/vnd.oci.image.layer.v1.tar+gzip)", {
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    });
  });

  test("a truncated archive is refused", async () => {
    const { target } = sandbox();
    const tar = await makeTar([file("a", "x".repeat(5000))]);
    await expectError(applyLayer(streamOf(tar.subarray(0, 2048)), target), "InvalidArgument", `applying layer: entry "a": invalid tar: unexpected end of archive`);
  });

  test("an aborted signal cancels", async () => {
    const { target } = sandbox();
    const controller = new AbortController();
    controller.abort();
    const tar = await makeTar([file("a")]);
    await expectError(applyLayer(streamOf(tar), target, { signal: controller.signal }), "Canceled", "applying layer: canceled");
  });

  test("a missing target directory is refused", async () => {
    const { target } = sandbox();
    mkdirSync(join(target, "x"));
    const missing = join(target, "nope");
    await expectError(applyLayer(streamOf(await makeTar([])), missing), "NotFound", `applying layer: ${missing}: no such file or directory`);
  });
});
