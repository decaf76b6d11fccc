// ADD's archive unpacking (copy with attemptUnpackDockerCompatibility), on real archives made by
// the system tar and its compressors, and on hostile ones made by tar-stream.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { makeTar } from "../image/fixtures.ts";
import { cleanup, exists, expectError, read, copyDirs as setup, runCopy as run, tempDir } from "./fixtures.ts";

afterEach(cleanup);

const unpack = { attemptUnpackDockerCompatibility: true };
const PASSWD = readFileSync("/etc/passwd");

/** An archive of a small tree made by the system tar, compressed with `flag` (-z, -j, -J, --zstd). */
function systemTar(flag: string): Uint8Array {
  const dir = tempDir("tree");
  mkdirSync(join(dir, "pkg/bin"), { recursive: true });
  writeFileSync(join(dir, "pkg/bin/tool"), "#!/bin/sh\n", { mode: 0o755 });
  writeFileSync(join(dir, "pkg/.wh.keep"), "not a whiteout here");
  symlinkSync("bin/tool", join(dir, "pkg/link"));
  const args = ["tar", "-c", ...(flag === "" ? [] : [flag]), "-C", dir, "pkg"];
  const p = Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${args.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout;
}

describe("copy with unpack: archives are extracted", () => {
  for (const [label, flag] of [["tar", ""], ["tar.gz", "-z"], ["tar.bz2", "-j"], ["tar.xz", "-J"], ["tar.zst", "--zstd"]] as const) {
    test(`a ${label} archive is extracted into the destination directory`, async () => {
      const d = setup({});
      writeFileSync(join(d.secondary, `a.${label}`), systemTar(flag));
      await run(d, `/a.${label}`, "/opt/", { ...unpack, createDestPath: true });
      expect(read(d.base, "opt/pkg/bin/tool")).toBe("#!/bin/sh\n");
      expect(read(d.base, "opt/pkg/.wh.keep")).toBe("not a whiteout here");
      expect(readdirSync(join(d.base, "opt/pkg")).sort()).toEqual([".wh.keep", "bin", "link"]);
      expect(exists(d.base, `opt/a.${label}`)).toBe(false);
    });
  }

  test("extraction merges into an existing directory and replaces files", async () => {
    const d = setup({}, { "opt/keep": "k", "opt/pkg/bin/tool": "old" });
    writeFileSync(join(d.secondary, "a.tgz"), systemTar("-z"));
    await run(d, "/a.tgz", "/opt", unpack);
    expect(read(d.base, "opt/keep")).toBe("k");
    expect(read(d.base, "opt/pkg/bin/tool")).toBe("#!/bin/sh\n");
  });

  test("a symlink to an archive is followed and the archive unpacked; wildcards unpack each match", async () => {
    const d = setup({});
    writeFileSync(join(d.secondary, "real.tar"), systemTar(""));
    symlinkSync("real.tar", join(d.secondary, "alias.tar"));
    await run(d, "/alias.tar", "/x/", { ...unpack, createDestPath: true });
    expect(read(d.base, "x/pkg/bin/tool")).toBe("#!/bin/sh\n");
    await run(d, "/*.tar", "/y/", { ...unpack, createDestPath: true, allowWildcard: true });
    expect(read(d.base, "y/pkg/bin/tool")).toBe("#!/bin/sh\n");
  });

  test("files that are not archives copy as they are, even with an archive's name or magic", async () => {
    const d = setup({ "plain.txt": "text", "fake.tar.gz": "not gzip at all" });
    writeFileSync(join(d.secondary, "gzipped.txt.gz"), gzipSync("just text, no tar header"));
    for (const name of ["plain.txt", "fake.tar.gz", "gzipped.txt.gz"]) await run(d, `/${name}`, "/out/", { ...unpack, createDestPath: true });
    expect(readdirSync(join(d.base, "out")).sort()).toEqual(["fake.tar.gz", "gzipped.txt.gz", "plain.txt"]);
    expect(read(d.base, "out/plain.txt")).toBe("text");
  });

  test("without the unpack option an archive is copied as a file", async () => {
    const d = setup({});
    writeFileSync(join(d.secondary, "a.tar"), systemTar(""));
    await run(d, "/a.tar", "/a.tar");
    expect(exists(d.base, "a.tar")).toBe(true);
    expect(exists(d.base, "pkg")).toBe(false);
  });
});

describe("copy with unpack: hostile archives stay inside the destination root", () => {
  async function hostile(items: Parameters<typeof makeTar>[0], message: string): Promise<void> {
    const d = setup({});
    writeFileSync(join(d.secondary, "evil.tar"), await makeTar(items));
    await expectError(run(d, "/evil.tar", "/dest/", { ...unpack, createDestPath: true }), message);
    expect(readFileSync("/etc/passwd").equals(PASSWD)).toBe(true);
  }

  test("an entry climbing out with .. is refused", async () => {
    await hostile(
      [{ header: { name: "../../../../../../etc/passwd", type: "file" }, content: "pwned" }],
      'copy /evil.tar: unpacking /evil.tar: entry "../../../../../../etc/passwd": path escapes the layer root',
    );
  });

  test("a symlink leading out is resolved inside the destination root by later entries", async () => {
    const d = setup({});
    const items = [
      { header: { name: "out", type: "symlink" as const, linkname: "/etc" } },
      { header: { name: "out/passwd", type: "file" as const }, content: "pwned" },
    ];
    writeFileSync(join(d.secondary, "evil.tar"), await makeTar(items));
    await run(d, "/evil.tar", "/dest/", { ...unpack, createDestPath: true });
    expect(readFileSync("/etc/passwd").equals(PASSWD)).toBe(true);
    expect(read(d.base, "dest/etc/passwd")).toBe("pwned");
  });

  test("a hard link to a file outside is refused", async () => {
    await hostile(
      [{ header: { name: "pw", type: "link", linkname: "../../../../etc/passwd" } }],
      'copy /evil.tar: unpacking /evil.tar: entry "pw": hardlink target "../../../../etc/passwd" escapes the layer root',
    );
  });
});
