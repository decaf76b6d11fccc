import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tempDir, transfer } from "./helpers.ts";

function tree(root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(`${root}/${rel}`).sort()) {
    const path = rel ? `${rel}/${name}` : name;
    const st = lstatSync(`${root}/${path}`);
    out.push(`${path} ${(st.mode & 0o7777).toString(8)} ${st.isSymbolicLink() ? `-> ${readlinkSync(`${root}/${path}`)}` : st.isDirectory() ? "dir" : st.size}`);
    if (st.isDirectory()) out.push(...tree(root, path));
  }
  return out;
}

describe("send ↔ receive", () => {
  test("copies files, dirs, symlinks, hard links with modes and times", async () => {
    const src = tempDir();
    const dest = tempDir();
    mkdirSync(`${src}/dir/sub`, { recursive: true });
    writeFileSync(`${src}/empty`, "");
    writeFileSync(`${src}/dir/a.txt`, "hello");
    const big = Buffer.alloc(200_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    writeFileSync(`${src}/dir/sub/big.bin`, big);
    chmodSync(`${src}/dir/sub`, 0o750);
    writeFileSync(`${src}/exec.sh`, "#!/bin/sh\n");
    chmodSync(`${src}/exec.sh`, 0o755);
    symlinkSync("dir/a.txt", `${src}/link`);
    symlinkSync("/etc/passwd", `${src}/abs-link`);
    linkSync(`${src}/dir/a.txt`, `${src}/hard`);
    utimesSync(`${src}/dir/a.txt`, 1_000_000, 1_000_000);
    utimesSync(`${src}/dir`, 2_000_000, 2_000_000);
    const result = await transfer(src, dest);
    expect(tree(dest)).toEqual(tree(src));
    expect(readFileSync(`${dest}/dir/sub/big.bin`).equals(big)).toBe(true);
    expect(lstatSync(`${dest}/dir/a.txt`).mtimeMs).toBe(1_000_000_000);
    expect(lstatSync(`${dest}/dir`).mtimeMs).toBe(2_000_000_000);
    expect(lstatSync(`${dest}/hard`).ino).toBe(lstatSync(`${dest}/dir/a.txt`).ino);
    expect(result.files).toBe(4); // empty, a.txt, big.bin, exec.sh: the hard link is linked, not sent
    expect(result.dataBytes).toBe(200_000 + 5 + 10);
  });

  test("a second transfer sends only what changed, and deletes", async () => {
    const src = tempDir();
    const dest = tempDir();
    for (let d = 0; d < 20; d++) {
      mkdirSync(`${src}/d${d}`);
      for (let f = 0; f < 100; f++) writeFileSync(`${src}/d${d}/f${f}`, Buffer.alloc(1024, d + f));
    }
    const first = await transfer(src, dest);
    writeFileSync(`${src}/d3/f7`, Buffer.alloc(1024, 99));
    rmSync(`${src}/d5`, { recursive: true });
    const second = await transfer(src, dest);
    expect(second.files).toBe(1);
    expect(second.bytes / first.bytes).toBeLessThan(0.05);
    expect(existsSync(`${dest}/d5`)).toBe(false);
    expect(readFileSync(`${dest}/d3/f7`)[0]).toBe(99);
    expect(tree(dest)).toEqual(tree(src));
  });
});
