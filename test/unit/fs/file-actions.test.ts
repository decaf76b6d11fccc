import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, lstatSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { applyFileAction } from "../../../src/core/fs/file-actions.ts";
import { decodeMessage } from "../../../src/core/pb/decode.ts";
import { pb } from "../../../src/core/pb/index.ts";
import { OPS_SCHEMA } from "../../../src/core/pb/ops-schema.ts";
import { cleanup, exists, expectError, isRoot, mkdirAction, mkfileAction, modeOf, read, rmAction, symlinkAction, tempDir, tree } from "./fixtures.ts";

afterEach(cleanup);

const TS = 1_700_000_000_123_456_789;
const mtimeNs = (root: string, p: string): bigint => lstatSync(join(root, p), { bigint: true }).mtimeNs;

describe("mkdir", () => {
  test("creates a directory with the mode, ignoring the umask", async () => {
    const root = tempDir();
    await applyFileAction(mkdirAction("/a", { mode: 0o777 }), { base: root });
    expect(statSync(join(root, "a")).isDirectory()).toBe(true);
    expect(modeOf(root, "a")).toBe(0o777);
  });

  test("makeParents creates missing parents with the action's mode and timestamp", async () => {
    const root = tempDir();
    await applyFileAction(mkdirAction("/a/b/c", { mode: 0o711, makeParents: true, timestamp: TS }), { base: root });
    expect(modeOf(root, "a")).toBe(0o711);
    expect(modeOf(root, "a/b/c")).toBe(0o711);
    expect(mtimeNs(root, "a/b/c")).toBe(BigInt(TS));
  });

  test("makeParents on an existing directory is a no-op", async () => {
    const root = tempDir();
    tree(root, { "a/b/": "" });
    await applyFileAction(mkdirAction("/a/b", { mode: 0o700, makeParents: true }), { base: root });
    expect(modeOf(root, "a/b")).toBe(0o755);
  });

  test("without makeParents a missing parent is an error", async () => {
    const root = tempDir();
    await expectError(applyFileAction(mkdirAction("/a/b"), { base: root }), "mkdir /a/b: parent directory does not exist", "NotFound");
  });

  test("without makeParents an existing path is left alone (as BuildKit)", async () => {
    const root = tempDir();
    tree(root, { "a/": "", f: "x" });
    await applyFileAction(mkdirAction("/a"), { base: root });
    await applyFileAction(mkdirAction("/f"), { base: root });
    expect(read(root, "f")).toBe("x");
  });

  test("makeParents through a file is an error", async () => {
    const root = tempDir();
    tree(root, { f: "x" });
    await expectError(applyFileAction(mkdirAction("/f/sub", { makeParents: true }), { base: root }), "mkdir /f/sub: not a directory");
  });

  test("the timestamp is applied, -1 keeps the current time", async () => {
    const root = tempDir();
    await applyFileAction(mkdirAction("/t", { timestamp: 5_000_000_000 }), { base: root });
    await applyFileAction(mkdirAction("/now"), { base: root });
    expect(mtimeNs(root, "t")).toBe(5_000_000_000n);
    expect(mtimeNs(root, "now")).toBeGreaterThan(5_000_000_000n);
  });
});

describe("mkfile", () => {
  test("creates a file with data and mode", async () => {
    const root = tempDir();
    await applyFileAction(mkfileAction("/hello", "hi\n", { mode: 0o600 }), { base: root });
    expect(read(root, "hello")).toBe("hi\n");
    expect(modeOf(root, "hello")).toBe(0o600);
  });

  test("mode keeps only permission bits, as BuildKit's os.FileMode(mode)&0777", async () => {
    const root = tempDir();
    await applyFileAction(mkfileAction("/s", "", { mode: 0o4755 }), { base: root });
    expect(modeOf(root, "s")).toBe(0o755);
  });

  test("overwrites an existing file (its mode is kept, as os.WriteFile)", async () => {
    const root = tempDir();
    tree(root, { f: "old content" });
    await applyFileAction(mkfileAction("/f", "new", { mode: 0o600 }), { base: root });
    expect(read(root, "f")).toBe("new");
    expect(modeOf(root, "f")).toBe(0o644);
  });

  test("timestamp sets atime and mtime in nanoseconds", async () => {
    const root = tempDir();
    await applyFileAction(mkfileAction("/f", "x", { timestamp: TS }), { base: root });
    const st = lstatSync(join(root, "f"), { bigint: true });
    expect(st.mtimeNs).toBe(BigInt(TS));
    expect(st.atimeNs).toBe(BigInt(TS));
  });

  test("errors: missing parent, directory in the way", async () => {
    const root = tempDir();
    tree(root, { "d/": "" });
    await expectError(applyFileAction(mkfileAction("/no/f", "x"), { base: root }), "mkfile /no/f: parent directory does not exist", "NotFound");
    await expectError(applyFileAction(mkfileAction("/d", "x"), { base: root }), "mkfile /d: is a directory");
  });

  test("accepts a decoded protobuf action", async () => {
    const root = tempDir();
    const bytes = pb.FileAction.encode({ mkfile: { path: "/p", data: new Uint8Array([104, 105]), mode: 0o640, timestamp: -1 } }).finish();
    await applyFileAction(pb.FileAction.decode(bytes), { base: root });
    expect(read(root, "p")).toBe("hi");
    expect(modeOf(root, "p")).toBe(0o640);
  });
});

describe("rm", () => {
  test("removes files and directories recursively", async () => {
    const root = tempDir();
    tree(root, { "d/a/b": "x", f: "y" });
    await applyFileAction(rmAction("/d"), { base: root });
    await applyFileAction(rmAction("f"), { base: root });
    expect(exists(root, "d")).toBe(false);
    expect(exists(root, "f")).toBe(false);
  });

  test("not found is an error unless allowNotFound", async () => {
    const root = tempDir();
    await expectError(applyFileAction(rmAction("/nope"), { base: root }), "rm /nope: no such file or directory", "NotFound");
    await applyFileAction(rmAction("/nope", { allowNotFound: true }), { base: root });
  });

  test("removes a final symlink, not its target", async () => {
    const root = tempDir();
    tree(root, { "target/keep": "x", link: "->target", dangling: "->/missing" });
    await applyFileAction(rmAction("/link"), { base: root });
    await applyFileAction(rmAction("/dangling"), { base: root });
    expect(exists(root, "link")).toBe(false);
    expect(exists(root, "dangling")).toBe(false);
    expect(read(root, "target/keep")).toBe("x");
  });

  test("symlinks in parent components are followed inside the root", async () => {
    const root = tempDir();
    tree(root, { "real/f": "x", "dir": "->/real" });
    await applyFileAction(rmAction("/dir/f"), { base: root });
    expect(exists(root, "real/f")).toBe(false);
  });

  test("wildcards remove every match, directories included", async () => {
    const root = tempDir();
    tree(root, { "a.txt": "", "b.txt": "", "c.md": "", "sub.txt/x": "", "d/e.txt": "" });
    await applyFileAction(rmAction("/*.txt", { allowWildcard: true }), { base: root });
    expect(["a.txt", "b.txt", "sub.txt", "c.md", "d/e.txt"].map((p) => exists(root, p))).toEqual([false, false, false, true, true]);
  });

  test("wildcards in inner components and character classes", async () => {
    const root = tempDir();
    tree(root, { "x1/f": "", "x2/f": "", "x3/g": "", "y1/f": "" });
    await applyFileAction(rmAction("/x[12]/*", { allowWildcard: true }), { base: root });
    expect(["x1/f", "x2/f", "x3/g", "y1/f"].map((p) => exists(root, p))).toEqual([false, false, true, true]);
  });

  test("a wildcard without matches removes nothing", async () => {
    const root = tempDir();
    tree(root, { keep: "" });
    await applyFileAction(rmAction("/*.none", { allowWildcard: true }), { base: root });
    expect(exists(root, "keep")).toBe(true);
  });

  test("removing the root is refused", async () => {
    const root = tempDir();
    await expectError(applyFileAction(rmAction("/"), { base: root }), "rm /: cannot remove the root directory");
    await expectError(applyFileAction(rmAction("/a/../.."), { base: root }), "rm /a/../..: cannot remove the root directory");
    expect(statSync(root).isDirectory()).toBe(true);
  });
});

describe("symlink", () => {
  test("creates a symlink with the given target", async () => {
    const root = tempDir();
    await applyFileAction(symlinkAction("/etc/hosts", "/link", { timestamp: TS }), { base: root });
    expect(readlinkSync(join(root, "link"))).toBe("/etc/hosts");
    expect(mtimeNs(root, "link")).toBe(BigInt(TS));
  });

  test("an existing path is an error", async () => {
    const root = tempDir();
    tree(root, { f: "" });
    await expectError(applyFileAction(symlinkAction("x", "/f"), { base: root }), "symlink /f: file exists", "AlreadyExists");
  });

  test("an empty action is an error", async () => {
    const root = tempDir();
    await expectError(applyFileAction({}, { base: root }), "file action: no action set", "InvalidArgument");
  });
});

describe.skipIf(!isRoot)("ownership (root)", () => {
  const byId = (uid: number, gid?: number): pb.ChownOpt.$Properties => ({ user: { byID: uid }, group: gid === undefined ? null : { byID: gid } });
  const byName = (user: string, group?: string): pb.ChownOpt.$Properties => ({
    user: { byName: { name: user } },
    group: group === undefined ? null : { byName: { name: group } },
  });
  const owner = (root: string, p: string): [number, number] => {
    const st = lstatSync(join(root, p));
    return [st.uid, st.gid];
  };
  const etc = { "etc/passwd": "root:x:0:0::/root:/bin/sh\n# comment\napp:x:1000:1001::/home/app:/bin/sh\n", "etc/group": "root:x:0:\nstaff:x:50:app\n" };

  test("created files default to 0:0", async () => {
    const root = tempDir();
    await applyFileAction(mkfileAction("/f", "x"), { base: root });
    expect(owner(root, "f")).toEqual([0, 0]);
  });

  test("byID sets uid and gid; a group overrides the gid", async () => {
    const root = tempDir();
    await applyFileAction(mkdirAction("/a/b", { makeParents: true, owner: byId(1234) }), { base: root });
    await applyFileAction(mkfileAction("/f", "x", { owner: byId(1, 2) }), { base: root });
    await applyFileAction(symlinkAction("t", "/l", { owner: byId(7, 8) }), { base: root });
    expect([owner(root, "a"), owner(root, "a/b"), owner(root, "f"), owner(root, "l")]).toEqual([[1234, 1234], [1234, 1234], [1, 2], [7, 8]]);
  });

  test("byName is resolved from the base's /etc/passwd and /etc/group", async () => {
    const root = tempDir();
    tree(root, etc);
    await applyFileAction(mkfileAction("/u", "x", { owner: byName("app") }), { base: root });
    await applyFileAction(mkfileAction("/ug", "x", { owner: byName("app", "staff") }), { base: root });
    expect([owner(root, "u"), owner(root, "ug")]).toEqual([[1000, 1001], [1000, 50]]);
  });

  test("the passwd file is read inside the root, through its symlinks", async () => {
    const root = tempDir();
    tree(root, { "real/passwd": "svc:x:33:44::/:/bin/false\n", "etc/passwd": "->/real/passwd" });
    await applyFileAction(mkfileAction("/f", "x", { owner: byName("svc") }), { base: root });
    expect(owner(root, "f")).toEqual([33, 44]);
  });

  test("an unknown name is an error; numeric names are ids", async () => {
    const root = tempDir();
    tree(root, etc);
    await expectError(
      applyFileAction(mkfileAction("/f", "x", { owner: byName("ghost") }), { base: root }),
      "mkfile /f: unable to find user ghost: no matching entries in passwd file",
      "InvalidArgument",
    );
    await expectError(
      applyFileAction(mkfileAction("/f", "x", { owner: byName("app", "nogroup") }), { base: root }),
      "mkfile /f: unable to find group nogroup: no matching entries in group file",
    );
    await applyFileAction(mkfileAction("/n", "x", { owner: byName("4321") }), { base: root });
    expect(owner(root, "n")).toEqual([4321, 4321]);
  });

  test("userRoot picks the directory names are resolved in", async () => {
    const root = tempDir();
    const users = tempDir("users");
    tree(users, etc);
    await applyFileAction(mkfileAction("/f", "x", { owner: byName("app") }), { base: root }, { userRoot: () => users });
    expect(owner(root, "f")).toEqual([1000, 1001]);
  });

  test("an idmap writes host ids", async () => {
    const root = tempDir();
    const idmap = { uids: [{ containerId: 0, hostId: 100000, size: 65536 }], gids: [{ containerId: 0, hostId: 200000, size: 65536 }] };
    await applyFileAction(mkfileAction("/f", "x", { owner: byId(5) }), { base: root }, { idmap });
    await applyFileAction(mkfileAction("/g", "x"), { base: root }, { idmap });
    expect([owner(root, "f"), owner(root, "g")]).toEqual([[100005, 200005], [100000, 200000]]);
    await expectError(
      applyFileAction(mkfileAction("/h", "x", { owner: byId(70000) }), { base: root }, { idmap }),
      "mkfile /h: uid 70000 is not mapped in the user namespace",
    );
  });
});

describe("timestamps past 2^53 ns", () => {
  // Varint of a non-negative bigint.
  const varint = (v: bigint): number[] => {
    const out: number[] = [];
    for (; v >= 0x80n; v >>= 7n) out.push(Number(v & 0x7fn) | 0x80);
    return [...out, Number(v)];
  };
  const field = (id: number, wire: number, body: number[]): number[] => [...varint(BigInt((id << 3) | wire)), ...body];
  const bytesField = (id: number, body: number[]): number[] => field(id, 2, [...varint(BigInt(body.length)), ...body]);

  test("a decoded action's timestamp is applied to the nanosecond (Go's t.UnixNano(), not a rounded double)", async () => {
    const exact = 1_323_785_716_123_456_789n; // 2011-12-13T14:15:16.123456789Z: a double holds ...768
    const path = [...new TextEncoder().encode("/f")];
    const mkfile = [...bytesField(1, path), ...field(2, 0, varint(0o644n)), ...field(5, 0, varint(exact))];
    const bytes = new Uint8Array([...field(1, 0, varint(0n)), ...field(3, 0, varint(0n)), ...bytesField(5, mkfile)]);
    const action = decodeMessage<pb.FileAction>(OPS_SCHEMA, "FileAction", bytes);
    const root = tempDir();
    await applyFileAction(action, { base: root });
    expect(mtimeNs(root, "f")).toBe(exact);
  });
});

describe("directories made in a setgid directory", () => {
  test("keep the setgid bit they inherit (BuildKit never chmods a directory it makes), with or without makeParents", async () => {
    const root = tempDir();
    await applyFileAction(mkdirAction("/shared", { mode: 0o2775 }), { base: root });
    chmodSync(join(root, "shared"), 0o2775);
    await applyFileAction(mkdirAction("/shared/one", { mode: 0o755 }), { base: root });
    await applyFileAction(mkdirAction("/shared/two/three", { mode: 0o700, makeParents: true }), { base: root });
    expect(modeOf(root, "shared/one")).toBe(0o2755);
    expect(modeOf(root, "shared/two")).toBe(0o2700);
    expect(modeOf(root, "shared/two/three")).toBe(0o2700);
  });
});
