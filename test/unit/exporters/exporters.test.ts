import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { createLocalExporter } from "../../../src/core/exporters/local/index.ts";
import { createTarExporter } from "../../../src/core/exporters/tar/index.ts";
import { setXattr } from "../../../src/core/fs/sys.ts";
import { parseOutputSpec, type BuildResult } from "../../../src/core/exporters/index.ts";

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "exp-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function resultOf(dir: string): BuildResult {
  return { withMounted: (fn) => fn(dir) };
}

function sampleTree(): string {
  const d = temp();
  mkdirSync(join(d, "bin"));
  writeFileSync(join(d, "bin/tool"), "#!/bin/sh\n", { mode: 0o755 });
  writeFileSync(join(d, "hello"), "hi\n");
  symlinkSync("hello", join(d, "link"));
  return d;
}

const failing: BuildResult = {
  withMounted: async (fn) => {
    const d = temp();
    writeFileSync(join(d, "x"), "x");
    await fn(d);
    throw new Error("mount went away");
  },
};

describe("--output spec", () => {
  test("parses buildctl's form", () => {
    expect(parseOutputSpec("type=local,dest=out")).toEqual({ type: "local", attrs: { dest: "out" } });
  });
  test.each([
    ["dest=out", `parsing --output "dest=out": type is required (type=local|tar|…)`],
    ["type=local,out", `parsing --output "type=local,out": "out" is not key=value`],
    ["type=tar,dest=a,dest=b", `parsing --output "type=tar,dest=a,dest=b": dest given twice`],
  ])("%s is an error", (spec, message) => {
    expect(() => parseOutputSpec(spec)).toThrow(message);
  });
  test("attributes are checked before a build", () => {
    expect(() => createLocalExporter().resolve({})).toThrow("output type=local: dest is required");
    expect(() => createTarExporter().resolve({ dest: "x", compression: "gzip" })).toThrow("output type=tar: unknown attribute compression");
  });
});

describe("local exporter", () => {
  const exportTo = (dest: string, result: BuildResult, signal = new AbortController().signal) => createLocalExporter().resolve({ dest }).export(result, signal);

  test("copies the result into a new dest, keeping modes and symlinks", async () => {
    const dest = join(temp(), "a", "out");
    const res = await exportTo(dest, resultOf(sampleTree()));
    expect(res).toEqual({ "local.dest": dest });
    expect(readdirSync(dest).sort()).toEqual(["bin", "hello", "link"]);
    expect(readlinkSync(join(dest, "link"))).toBe("hello");
    expect(Bun.file(join(dest, "bin/tool")).size).toBe(10);
    expect(statSync(join(dest, "bin/tool")).mode & 0o777).toBe(0o755);
  });

  test("writes into an existing dest as BuildKit does: same names replaced, nothing else removed", async () => {
    const dest = temp();
    writeFileSync(join(dest, "stale"), "old");
    writeFileSync(join(dest, "hello"), "old hello");
    mkdirSync(join(dest, "bin"));
    writeFileSync(join(dest, "bin/mine"), "keep");
    writeFileSync(join(dest, "bin/tool"), "old tool");
    mkdirSync(join(dest, "link")); // a directory where the result has a symlink
    writeFileSync(join(dest, "link/x"), "x");
    await exportTo(dest, resultOf(sampleTree()));
    expect(readdirSync(dest).sort()).toEqual(["bin", "hello", "link", "stale"]);
    expect(readFileSync(join(dest, "stale"), "utf8")).toBe("old");
    expect(readFileSync(join(dest, "hello"), "utf8")).toBe("hi\n");
    expect(readdirSync(join(dest, "bin")).sort()).toEqual(["mine", "tool"]);
    expect(readFileSync(join(dest, "bin/tool"), "utf8")).toBe("#!/bin/sh\n");
    expect(readlinkSync(join(dest, "link"))).toBe("hello");
  });

  test("a symlink in dest is replaced, never written through", async () => {
    const outside = temp();
    const dest = temp();
    symlinkSync(outside, join(dest, "bin"));
    symlinkSync(join(outside, "hello"), join(dest, "hello"));
    writeFileSync(join(outside, "hello"), "outside");
    await exportTo(dest, resultOf(sampleTree()));
    expect(lstatSync(join(dest, "bin")).isDirectory()).toBe(true);
    expect(lstatSync(join(dest, "hello")).isFile()).toBe(true);
    expect(readdirSync(outside)).toEqual(["hello"]);
    expect(readFileSync(join(outside, "hello"), "utf8")).toBe("outside");
  });

  test("a dest that is a symlink to a directory is written through; times to the nanosecond, hard links kept", async () => {
    const tree = sampleTree();
    utimesSync(join(tree, "hello"), 1_600_000_000.123456, 1_600_000_000.123456);
    linkSync(join(tree, "hello"), join(tree, "bin/hello-again"));
    const real = temp();
    const dest = join(temp(), "via-link");
    symlinkSync(real, dest);
    await exportTo(dest, resultOf(tree));
    expect(readdirSync(real).sort()).toEqual(["bin", "hello", "link"]);
    expect(lstatSync(join(real, "hello"), { bigint: true }).mtimeNs).toBe(lstatSync(join(tree, "hello"), { bigint: true }).mtimeNs);
    expect(lstatSync(join(real, "bin/hello-again")).ino).toBe(lstatSync(join(real, "hello")).ino);
  });

  test("exporting into the current directory of a source tree keeps the tree", async () => {
    const tree = temp();
    mkdirSync(join(tree, "src"));
    writeFileSync(join(tree, "src/main.ts"), "code");
    writeFileSync(join(tree, "package.json"), "{}");
    await exportTo(tree, resultOf(sampleTree()));
    expect(readdirSync(tree).sort()).toEqual(["bin", "hello", "link", "package.json", "src"]);
    expect(readFileSync(join(tree, "src/main.ts"), "utf8")).toBe("code");
  });

  test("a canceled export leaves no temporary files", async () => {
    const parent = temp();
    const dest = join(parent, "out");
    const ac = new AbortController();
    const result: BuildResult = {
      withMounted: async (fn) => {
        ac.abort(new Error("canceled"));
        return fn(sampleTree());
      },
    };
    await expect(exportTo(dest, result, ac.signal)).rejects.toThrow(`exporting to ${dest}: canceled`);
    expect(readdirSync(parent)).toEqual(["out"]);
    expect(readdirSync(dest)).toEqual([]);
    await expect(exportTo(dest, failing)).rejects.toThrow(`exporting to ${dest}: mount went away`);
    expect(readdirSync(dest)).toEqual(["x"]);
  });
});

describe("tar exporter", () => {
  test("writes a file; the same tree gives the same entries in the same order", async () => {
    const tree = sampleTree();
    const [a, b] = [join(temp(), "a.tar"), join(temp(), "b.tar")];
    for (const dest of [a, b]) await createTarExporter().resolve({ dest }).export(resultOf(tree), new AbortController().signal);
    const list = (f: string) => Bun.spawnSync(["tar", "-tvf", f]).stdout.toString();
    const names = list(a).trim().split("\n").map((l) => l.split(/\s+/).slice(5).join(" "));
    // Depth first, each directory's names in byte order (fsutil's walk); no entry for the root.
    expect(names).toEqual(["bin/", "bin/tool", "hello", "link -> hello"]);
    expect(list(b)).toBe(list(a));
  });

  test("modes are written as they are, not masked by the umask: setgid, group write, a symlink's 0777", async () => {
    const tree = sampleTree();
    mkdirSync(join(tree, "shared"));
    chmodSync(join(tree, "shared"), 0o2775);
    chmodSync(join(tree, "hello"), 0o666);
    const dest = join(temp(), "m.tar");
    const old = process.umask(0o022);
    try {
      await createTarExporter().resolve({ dest }).export(resultOf(tree), new AbortController().signal);
    } finally {
      process.umask(old);
    }
    const modes = Bun.spawnSync(["tar", "-tvf", dest]).stdout.toString().trim().split("\n").map((l) => `${l.split(/\s+/)[0]} ${l.split(/\s+/)[5]}`);
    expect(modes).toContain("drwxrwsr-x shared/");
    expect(modes).toContain("-rw-rw-rw- hello");
    expect(modes).toContain("lrwxrwxrwx link");
  });

  test("streams to stdout with dest=-", async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (c: Buffer) => chunks.push(c));
    await createTarExporter({ stdout: () => out }).resolve({ dest: "-" }).export(resultOf(sampleTree()), new AbortController().signal);
    const tarFile = join(temp(), "s.tar");
    writeFileSync(tarFile, Buffer.concat(chunks));
    expect(Bun.spawnSync(["tar", "-xOf", tarFile, "hello"]).stdout.toString()).toBe("hi\n");
  });

  test("a failed export leaves no file", async () => {
    const parent = temp();
    const dest = join(parent, "out.tar");
    await expect(createTarExporter().resolve({ dest }).export(failing, new AbortController().signal)).rejects.toThrow("mount went away");
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });
});

/** A tar's entries as Go's archive/tar reads them back: PAX records folded into the next header. */
interface ReadEntry {
  name: string;
  flag: string;
  mode: number;
  uid: number;
  size: number;
  mtime: number;
  linkname: string;
  pax: Record<string, string>;
  data: string;
}

function readTar(tar: Buffer): ReadEntry[] {
  const out: ReadEntry[] = [];
  const str = (b: Buffer, o: number, n: number) => b.subarray(o, o + n).toString("latin1").replace(/\0.*$/s, "");
  const num = (b: Buffer, o: number, n: number) => parseInt(str(b, o, n).trim() || "0", 8);
  let pax: Record<string, string> = {};
  for (let pos = 0; pos + 512 <= tar.length; ) {
    const h = tar.subarray(pos, pos + 512);
    if (h.every((b) => b === 0)) break;
    const size = num(h, 124, 12);
    const body = tar.subarray(pos + 512, pos + 512 + size);
    pos += 512 + Math.ceil(size / 512) * 512;
    const flag = String.fromCharCode(h[156]!);
    if (flag === "x") {
      for (let text = body.toString("latin1"); text.length > 0; ) {
        const len = Number(text.slice(0, text.indexOf(" ")));
        const rec = text.slice(text.indexOf(" ") + 1, len - 1);
        pax[rec.slice(0, rec.indexOf("="))] = rec.slice(rec.indexOf("=") + 1);
        text = text.slice(len);
      }
      continue;
    }
    const prefix = str(h, 345, 155);
    const name = pax.path ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100));
    out.push({ name, flag, mode: num(h, 100, 8), uid: num(h, 108, 8), size, mtime: num(h, 136, 12), linkname: pax.linkpath ?? str(h, 157, 100), pax, data: body.toString() });
    pax = {};
  }
  return out;
}

async function exportTar(result: BuildResult, attrs: Record<string, string> = {}): Promise<ReadEntry[]> {
  const dest = join(temp(), "out.tar");
  await createTarExporter().resolve({ dest, ...attrs }).export(result, new AbortController().signal);
  return readTar(readFileSync(dest));
}

describe("tar exporter writes what fsutil's WriteTar writes", () => {
  test("a later path to a multiply linked inode is a link to the first; fifos are fifos", async () => {
    const d = temp();
    writeFileSync(join(d, "a"), "shared\n");
    mkdirSync(join(d, "sub"));
    linkSync(join(d, "a"), join(d, "sub/b"));
    linkSync(join(d, "a"), join(d, "c"));
    expect(Bun.spawnSync(["mkfifo", "-m", "0640", join(d, "pipe")]).exitCode).toBe(0);
    const entries = await exportTar(resultOf(d));
    expect(entries.map((e) => [e.name, e.flag, e.linkname, e.size])).toEqual([
      ["a", "0", "", 7],
      ["c", "1", "a", 0],
      ["pipe", "6", "", 0],
      ["sub/", "5", "", 0],
      ["sub/b", "1", "a", 0],
    ]);
    expect(entries.find((e) => e.name === "a")?.data).toBe("shared\n");
    expect(entries.find((e) => e.name === "pipe")?.mode).toBe(0o640);
  });

  test("the system tar restores the links from it", async () => {
    const d = temp();
    writeFileSync(join(d, "a"), "shared\n");
    linkSync(join(d, "a"), join(d, "b"));
    const dest = join(temp(), "out.tar");
    await createTarExporter().resolve({ dest }).export(resultOf(d), new AbortController().signal);
    const out = temp();
    expect(Bun.spawnSync(["tar", "-xf", dest, "-C", out]).exitCode).toBe(0);
    expect(statSync(join(out, "b")).ino).toBe(statSync(join(out, "a")).ino);
    expect(readFileSync(join(out, "b"), "utf8")).toBe("shared\n");
  });

  test("xattrs as PAX SCHILY.xattr records, on a link entry too", async () => {
    const d = temp();
    writeFileSync(join(d, "a"), "x");
    linkSync(join(d, "a"), join(d, "b"));
    try {
      setXattr(join(d, "a"), "user.test", new TextEncoder().encode("value"));
    } catch {
      return; // no user xattrs on this filesystem
    }
    const entries = await exportTar(resultOf(d));
    expect(entries.map((e) => [e.name, e.flag, e.pax["SCHILY.xattr.user.test"]])).toEqual([
      ["a", "0", "value"],
      ["b", "1", "value"],
    ]);
  });

  test("mtimes are rounded to the nearest second (Go's archive/tar), not truncated", async () => {
    const d = temp();
    for (const [name, t] of [["down", 1000.25], ["half", 1000.5], ["up", 1000.75]] as const) {
      writeFileSync(join(d, name), name);
      utimesSync(join(d, name), t, t);
    }
    const entries = await exportTar(resultOf(d));
    expect(Object.fromEntries(entries.map((e) => [e.name, e.mtime]))).toEqual({ down: 1000, half: 1001, up: 1001 });
    expect(entries.every((e) => e.pax.mtime === undefined)).toBe(true);
  });

  test("source-date-epoch dates every entry", async () => {
    const entries = await exportTar(resultOf(sampleTree()), { "source-date-epoch": "1234" });
    expect(entries.map((e) => e.mtime)).toEqual([1234, 1234, 1234, 1234]);
  });

  test("several platforms: a directory each in name order, links and absolute symlink targets under it", async () => {
    const arm = temp();
    writeFileSync(join(arm, "f"), "arm");
    linkSync(join(arm, "f"), join(arm, "g"));
    symlinkSync("/etc/../f/", join(arm, "abs"));
    const amd = temp();
    writeFileSync(join(amd, "f"), "amd");
    const part = (id: string, dir: string) => ({ id, platform: { os: "linux", architecture: id.split("/")[1]! }, result: resultOf(dir) });
    const result: BuildResult = { withMounted: () => Promise.reject(new Error("not mounted")), platforms: [part("linux/arm64", arm), part("linux/amd64", amd)] };
    const entries = await exportTar(result);
    expect(entries.map((e) => [e.name, e.flag, e.linkname, e.mode, e.mtime])).toEqual([
      ["linux_amd64/", "5", "", 0o755, 0],
      ["linux_amd64/f", "0", "", 0o644, entries[1]!.mtime],
      ["linux_arm64/", "5", "", 0o755, 0],
      ["linux_arm64/abs", "2", "/linux_arm64/f", 0o777, entries[3]!.mtime],
      ["linux_arm64/f", "0", "", 0o644, entries[4]!.mtime],
      ["linux_arm64/g", "1", "linux_arm64/f", 0o644, entries[5]!.mtime],
    ]);
  });
});
