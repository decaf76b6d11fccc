// Client paths on Windows and POSIX: --local and dest values resolve with the client's rules,
// and names received from a daemon are refused where they would mean something else.
import { describe, expect, test } from "bun:test";
import { checkReceivedPath, resolveClientPath, splitNamedPath } from "../../../../src/api/client/client-paths.ts";
import { localDirs } from "../../../../src/cmd/remote-build.ts";
import { parseRemoteOutput } from "../../../../src/api/client/outputs.ts";

const win = { platform: "win32", cwd: "C:\\Users\\dev\\project" };
const mac = { platform: "darwin", cwd: "/Users/dev/project" };

describe("resolveClientPath", () => {
  test("Windows: drive letters, backslashes, forward slashes, relative paths, UNC", () => {
    expect(resolveClientPath("C:\\src\\app", win)).toBe("C:\\src\\app");
    expect(resolveClientPath("D:/work/ctx", win)).toBe("D:\\work\\ctx");
    expect(resolveClientPath(".\\ctx", win)).toBe("C:\\Users\\dev\\project\\ctx");
    expect(resolveClientPath("..\\other\\dir\\", win)).toBe("C:\\Users\\dev\\other\\dir");
    expect(resolveClientPath("sub/dir", win)).toBe("C:\\Users\\dev\\project\\sub\\dir");
    expect(resolveClientPath("\\\\server\\share\\ctx", win)).toBe("\\\\server\\share\\ctx");
    expect(resolveClientPath("\\root-of-drive", win)).toBe("C:\\root-of-drive");
  });

  test("POSIX: a backslash is part of a name", () => {
    expect(resolveClientPath("ctx", mac)).toBe("/Users/dev/project/ctx");
    expect(resolveClientPath("a\\b", mac)).toBe("/Users/dev/project/a\\b");
    expect(() => resolveClientPath("", mac)).toThrow("empty path");
  });
});

describe("splitNamedPath", () => {
  test("splits at the first = and keeps a drive's colon", () => {
    expect(splitNamedPath("--local", "context=C:\\src\\app")).toEqual({ name: "context", path: "C:\\src\\app" });
    expect(splitNamedPath("--local", "ctx=D:\\a=b")).toEqual({ name: "ctx", path: "D:\\a=b" });
  });

  test("refuses a missing name or path and names with separators", () => {
    expect(() => splitNamedPath("--local", "C:\\src")).toThrow("expected NAME=PATH");
    expect(() => splitNamedPath("--local", "=C:\\src")).toThrow("expected NAME=PATH");
    expect(() => splitNamedPath("--local", "ctx=")).toThrow("expected NAME=PATH");
    expect(() => splitNamedPath("--local", "a\\b=C:\\src")).toThrow("path separator");
  });
});

describe("checkReceivedPath", () => {
  test("clean relative paths pass everywhere", () => {
    for (const p of ["a", "a/b/c.txt", "dir.d/file name", "CONFIG"]) {
      expect(() => checkReceivedPath(p, "win32")).not.toThrow();
      expect(() => checkReceivedPath(p, "linux")).not.toThrow();
    }
  });

  test("escapes fail everywhere", () => {
    for (const p of ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a"]) {
      expect(() => checkReceivedPath(p, "linux")).toThrow();
      expect(() => checkReceivedPath(p, "win32")).toThrow();
    }
  });

  test("Windows: backslashes, drives, streams, device names and trailing dots fail; Linux keeps them", () => {
    for (const p of ["..\\..\\evil", "a\\b", "C:evil", "dir/file:stream", "CON", "nul.txt", "dir/com1", "LPT9.log", "trailing.", "space "]) {
      expect(() => checkReceivedPath(p, "win32")).toThrow(/Windows/);
      expect(() => checkReceivedPath(p, "linux")).not.toThrow();
    }
  });
});

describe("remote build flags with Windows paths", () => {
  test("--local values are resolved with the client's rules", () => {
    const dirs = localDirs(["ctx=."], []);
    expect(dirs.get("ctx")?.dir).toBe(process.cwd());
  });

  test("an output dest goes through the given resolver", () => {
    const resolvePath = (p: string) => resolveClientPath(p, win);
    const local = parseRemoteOutput("type=local,dest=out\\dir", { resolvePath });
    expect(local.target).toEqual({ kind: "dir", dir: "C:\\Users\\dev\\project\\out\\dir" });
    expect(local.attrs).toEqual({});
  });
});
