import { afterEach, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeWorkingDir } from "../../../src/backends/standalone/executor/working-dir.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function rootfs(): string {
  const d = mkdtempSync(join(tmpdir(), "bk-cwd-"));
  dirs.push(d);
  return d;
}
const owner = (p: string) => {
  const st = lstatSync(p);
  return `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
};

describe.if(process.getuid?.() === 0)("the working directory of a process", () => {
  test("missing components are made 0755 and given to the process's user, as BuildKit's executor does", () => {
    const root = rootfs();
    mkdirSync(join(root, "existing"), { mode: 0o700 });
    expect(makeWorkingDir(root, "/existing/work/sub", { uid: 65534, gid: 100 })).toEqual([join(root, "existing/work"), join(root, "existing/work/sub")]);
    expect(owner(join(root, "existing"))).toBe("700 0:0");
    expect(owner(join(root, "existing/work"))).toBe("755 65534:100");
    expect(owner(join(root, "existing/work/sub"))).toBe("755 65534:100");
  });

  test("an existing one is left as it is; a symlink on the way is followed inside the root", () => {
    const root = rootfs();
    mkdirSync(join(root, "real"));
    symlinkSync("/real", join(root, "link"));
    expect(makeWorkingDir(root, "/real", { uid: 1, gid: 1 })).toEqual([]);
    expect(makeWorkingDir(root, "/link/made", { uid: 1, gid: 2 })).toEqual([join(root, "real/made")]);
    expect(owner(join(root, "real/made"))).toBe("755 1:2");
  });
});
