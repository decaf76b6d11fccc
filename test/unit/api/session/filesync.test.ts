import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { chownSync, renameSync } from "node:fs";
import { getXattr, setXattr } from "../../../../src/core/fs/sys.ts";
import { GoMode, toGoMode, chmodBits } from "../../../../src/api/session/filesync/file-mode.ts";
import { cleanup, tempDir, transfer } from "./helpers.ts";

afterEach(cleanup);

const isRoot = process.getuid?.() === 0;

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
  }, 30_000); // 4,000 file creations: slow on a busy disk

  test("keeps xattrs, and owners when running as root", async () => {
    const src = tempDir();
    const dest = tempDir();
    writeFileSync(`${src}/f`, "x");
    mkdirSync(`${src}/d`);
    let xattrs = true;
    try {
      setXattr(`${src}/f`, "user.origin", new TextEncoder().encode("client"));
    } catch {
      xattrs = false; // a file system without user xattrs
    }
    if (isRoot) chownSync(`${src}/d`, 1234, 5678);
    await transfer(src, dest);
    if (xattrs) expect(new TextDecoder().decode(getXattr(`${dest}/f`, "user.origin"))).toBe("client");
    const st = lstatSync(`${dest}/d`);
    expect([st.uid, st.gid]).toEqual(isRoot ? [1234, 5678] : [process.getuid?.() ?? 0, process.getgid?.() ?? 0]);
  });

  test("a second transfer replaces entries whose type changed", async () => {
    const src = tempDir();
    const dest = tempDir();
    mkdirSync(`${src}/was-dir/sub`, { recursive: true });
    writeFileSync(`${src}/was-dir/sub/f`, "in dir");
    writeFileSync(`${src}/was-file`, "file");
    writeFileSync(`${src}/was-link-target`, "t");
    writeFileSync(`${src}/target`, "v1");
    linkSync(`${src}/target`, `${src}/hard`);
    await transfer(src, dest);
    rmSync(`${src}/was-dir`, { recursive: true });
    writeFileSync(`${src}/was-dir`, "now a file");
    rmSync(`${src}/was-file`);
    mkdirSync(`${src}/was-file`);
    writeFileSync(`${src}/was-file/inside`, "now inside a dir");
    rmSync(`${src}/was-link-target`);
    symlinkSync("target", `${src}/was-link-target`);
    writeFileSync(`${src}/target.new`, "version 2");
    renameSync(`${src}/target.new`, `${src}/target`);
    linkSync(`${src}/target`, `${src}/hard.new`);
    renameSync(`${src}/hard.new`, `${src}/hard`);
    await transfer(src, dest);
    expect(tree(dest)).toEqual(tree(src));
    expect(readFileSync(`${dest}/was-dir`, "utf8")).toBe("now a file");
    expect(readFileSync(`${dest}/hard`, "utf8")).toBe("version 2");
    expect(lstatSync(`${dest}/hard`).ino).toBe(lstatSync(`${dest}/target`).ino);
  });

  test("both sides report progress, ending with done", async () => {
    const src = tempDir();
    writeFileSync(`${src}/f`, Buffer.alloc(100_000));
    const sent: [number, boolean][] = [];
    const received: [number, boolean][] = [];
    const result = await transfer(src, tempDir(), { onProgress: (b, d) => sent.push([b, d]) }, { onProgress: (b, d) => received.push([b, d]) });
    expect(sent.at(-1)?.[1]).toBe(true);
    expect(received.at(-1)).toEqual([result.bytes, true]);
    expect(result.bytes).toBeGreaterThan(100_000);
    expect(sent.at(-1)?.[0]).toBeGreaterThan(100_000);
  });
});

describe("Go file modes", () => {
  test("st_mode ↔ os.FileMode as Go encodes them", () => {
    expect(toGoMode(0o100644)).toBe(0o644);
    expect(toGoMode(0o040755)).toBe(2147484141); // os.ModeDir|0755
    expect(toGoMode(0o120777)).toBe((GoMode.symlink | 0o777) >>> 0);
    expect(toGoMode(0o104755)).toBe((GoMode.setuid | 0o755) >>> 0);
    expect(toGoMode(0o041777)).toBe((GoMode.dir | GoMode.sticky | 0o777) >>> 0);
    expect(toGoMode(0o020620)).toBe((GoMode.device | GoMode.charDevice | 0o620) >>> 0);
    expect(toGoMode(0o010644)).toBe((GoMode.namedPipe | 0o644) >>> 0);
    expect(chmodBits(toGoMode(0o106755))).toBe(0o6755);
  });
});

describe("wire encoding", () => {
  test("a STAT packet encodes as fsutil's Packet, and packetSize is its exact length", async () => {
    const { fileSyncDiffCopy } = await import("../../../../src/api/session/methods.ts");
    const { packetSize, statPacket, dataPacket, controlPacket, PacketType } = await import("../../../../src/api/session/filesync/packet.ts");
    const stat = {
      path: "a/é",
      mode: toGoMode(0o040755),
      uid: 1000,
      gid: 1000,
      size: 0,
      modTime: 1_700_000_000_123_456_768,
      linkname: "",
      devmajor: 0,
      devminor: 0,
      xattrs: { "user.k": new Uint8Array([1, 2]) },
    };
    const bytes = fileSyncDiffCopy.encodeRequest(statPacket(stat));
    // type STAT (0) is omitted; field 2 (stat, length-delimited) comes first; inside, path is field 1.
    expect(bytes[0]).toBe(0x12);
    expect([...bytes.subarray(2, 8)]).toEqual([0x0a, 4, ...new TextEncoder().encode("a/é")]);
    expect(fileSyncDiffCopy.decodeRequest(bytes).stat).toEqual(stat);
    for (const p of [statPacket(stat), statPacket(), dataPacket(3, new Uint8Array(40_000)), dataPacket(300), controlPacket(PacketType.REQ, 70_000), controlPacket(PacketType.FIN)]) {
      expect(packetSize(p)).toBe(fileSyncDiffCopy.encodeRequest(p).length);
    }
  });
});
