import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { createLocalExporter } from "../../../src/core/exporters/local/index.ts";
import { createTarExporter } from "../../../src/core/exporters/tar/index.ts";
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
    // Sorted within each directory, breadth first (tar-fs's walk); no entry for the root.
    expect(names).toEqual(["bin/", "hello", "link -> hello", "bin/tool"]);
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
