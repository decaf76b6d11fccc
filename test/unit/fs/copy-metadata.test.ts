// Copy metadata that needs privileges or kernel support: owners, device nodes, xattrs.
import { afterEach, describe, expect, test } from "bun:test";
import { dlopen, FFIType } from "bun:ffi";
import { chmodSync, chownSync, lstatSync } from "node:fs";
import { join } from "node:path";
import { cleanup, copyDirs as setup, isRoot, runCopy as run } from "./fixtures.ts";

afterEach(cleanup);

describe.skipIf(!isRoot)("copy: ownership (root)", () => {
  test("source owners are kept without an owner option", async () => {
    const d = setup({ "t/f": "x" });
    chownSync(join(d.secondary, "t/f"), 1234, 5678);
    await run(d, "/t", "/out");
    const st = lstatSync(join(d.base, "out/f"));
    expect([st.uid, st.gid]).toEqual([1234, 5678]);
  });

  test("an owner applies to copied entries and created parents", async () => {
    const d = setup({ "t/f": "x", "t/l": "->f" });
    await run(d, "/t", "/p/out", { createDestPath: true, owner: { user: { byID: 42 }, group: { byID: 43 } } });
    for (const p of ["p", "p/out", "p/out/f", "p/out/l"]) {
      const st = lstatSync(join(d.base, p));
      expect([p, st.uid, st.gid]).toEqual([p, 42, 43]);
    }
  });

  test("named owners come from the destination's /etc/passwd", async () => {
    const d = setup({ f: "x" }, { "etc/passwd": "app:x:1000:1000::/:/bin/sh\n", "etc/group": "web:x:33:\n" });
    await run(d, "/f", "/g", { owner: { user: { byName: { name: "app" } }, group: { byName: { name: "web" } } } });
    const st = lstatSync(join(d.base, "g"));
    expect([st.uid, st.gid]).toEqual([1000, 33]);
  });

  test("files in set-gid directories keep their own group, set-id bits and modes", async () => {
    const d = setup({ "t/f": "x", "t/s": "y", "t/w": "z" }, { "into/": "" });
    chownSync(join(d.secondary, "t"), 0, 777);
    chmodSync(join(d.secondary, "t"), 0o2775);
    chownSync(join(d.secondary, "t/f"), 1234, 5678);
    chownSync(join(d.secondary, "t/s"), 0, 0);
    chmodSync(join(d.secondary, "t/s"), 0o6755);
    chmodSync(join(d.secondary, "t/w"), 0o666);
    chownSync(join(d.base, "into"), 0, 999);
    chmodSync(join(d.base, "into"), 0o2777);
    await run(d, "/t", "/out"); // a directory the copy makes, set-gid as its source
    await run(d, "/t/", "/into/", { dirCopyContents: true }); // an existing set-gid directory
    for (const dir of ["out", "into"]) {
      const f = lstatSync(join(d.base, dir, "f"));
      const s = lstatSync(join(d.base, dir, "s"));
      const w = lstatSync(join(d.base, dir, "w"));
      expect([dir, f.uid, f.gid, s.gid, s.mode & 0o7777, w.mode & 0o7777]).toEqual([dir, 1234, 5678, 0, 0o6755, 0o666]);
    }
    expect(lstatSync(join(d.base, "out")).mode & 0o7777).toBe(0o2775);
  });

  test("device nodes are recreated", async () => {
    const d = setup({ "t/": "" });
    Bun.spawnSync(["mknod", join(d.secondary, "t/null"), "c", "1", "3"]);
    await run(d, "/t", "/out");
    const st = lstatSync(join(d.base, "out/null"));
    expect([st.isCharacterDevice(), st.rdev]).toEqual([true, lstatSync(join(d.secondary, "t/null")).rdev]);
  });
});

describe("copy: extended attributes", () => {
  const libc = (() => {
    try {
      return dlopen("libc.so.6", {
        lsetxattr: { args: [FFIType.cstring, FFIType.cstring, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
        lgetxattr: { args: [FFIType.cstring, FFIType.cstring, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
      }).symbols;
    } catch {
      return undefined;
    }
  })();
  const cstr = (s: string) => Buffer.from(`${s}\0`);
  const setX = (p: string, name: string, value: string): boolean => {
    const v = Buffer.from(value);
    return libc?.lsetxattr(cstr(p), cstr(name), v, BigInt(v.length), 0) === 0;
  };
  const getX = (p: string, name: string): string | undefined => {
    const buf = Buffer.alloc(256);
    const n = Number(libc?.lgetxattr(cstr(p), cstr(name), buf, 256n) ?? -1);
    return n < 0 ? undefined : buf.subarray(0, n).toString();
  };

  test("user xattrs are copied", async () => {
    const d = setup({ "t/f": "x" });
    if (!setX(join(d.secondary, "t/f"), "user.buildkit", "yes")) return; // filesystem without user xattrs
    setX(join(d.secondary, "t"), "user.dir", "d");
    await run(d, "/t", "/out");
    expect([getX(join(d.base, "out/f"), "user.buildkit"), getX(join(d.base, "out"), "user.dir")]).toEqual(["yes", "d"]);
  });
});
