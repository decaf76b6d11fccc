// Extended attributes in BuildKit's content checksum: each file of
// test/vectors/contenthash-xattrs/digests.json is made again here (mode, owner, content, xattrs
// set with lsetxattr) and its digest must be the one BuildKit v0.11.6's own
// contenthash.NewFileHash gave for the same file (generator/main.go there made them, as root):
// user.* and trusted.* values raw in the header, sorted by name, security.capability in too.
// Needs root (chown, trusted.*, security.capability) and a file system with user xattrs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { contentHash } from "../../../src/core/cache/contenthash/index.ts";
import { fileDigest } from "../../../src/core/cache/contenthash/file-hash.ts";
import { getXattr, setXattr } from "../../../src/core/fs/sys.ts";
import vectors from "../../vectors/contenthash-xattrs/digests.json";

interface XattrFile {
  path: string;
  dir?: boolean;
  mode: number;
  uid: number;
  gid: number;
  content: string;
  xattrs: Record<string, string>;
  digest: string;
}
const FILES = vectors as XattrFile[];

const asRoot = process.getuid?.() === 0;
let dir: string;
let xattrsWork = false;

function make(root: string, f: XattrFile): string {
  const p = join(root, f.path);
  if (f.dir) mkdirSync(p);
  else writeFileSync(p, f.content);
  chownSync(p, f.uid, f.gid);
  chmodSync(p, f.mode);
  for (const [name, hex] of Object.entries(f.xattrs)) setXattr(p, name, Buffer.from(hex, "hex"));
  return p;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "contenthash-xattrs-"));
  try {
    const probe = join(dir, "probe");
    writeFileSync(probe, "");
    setXattr(probe, "user.probe", new Uint8Array([1]));
    xattrsWork = getXattr(probe, "user.probe")?.[0] === 1;
    rmSync(probe);
  } catch {
    xattrsWork = false;
  }
  if (!xattrsWork && asRoot && process.env.CI === "true") throw new Error(`xattr checksum vectors cannot run under CI=true: ${tmpdir()} has no user xattrs`);
  if (!xattrsWork) console.log(`skipping xattr checksum vectors: ${tmpdir()} has no user xattrs`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!asRoot)("content checksum with xattrs against BuildKit v0.11.6's NewFileHash", () => {
  test("the vectors cover user, trusted, binary and empty values, security.capability, a directory", () => {
    const names = FILES.flatMap((f) => Object.keys(f.xattrs));
    expect(names).toContain("security.capability");
    expect(names.some((n) => n.startsWith("trusted."))).toBe(true);
    expect(FILES.some((f) => f.dir && Object.keys(f.xattrs).length > 0)).toBe(true);
  });

  for (const f of FILES) {
    test(f.path, async () => {
      if (!xattrsWork) return;
      const sub = mkdtempSync(join(dir, "t-"));
      const p = make(sub, f);
      expect(await fileDigest(p)).toBe(f.digest);
    });
  }

  test("a user xattr changes a tree's checksum; security.selinux-like names do not count", async () => {
    if (!xattrsWork) return;
    const root = mkdtempSync(join(dir, "tree-"));
    writeFileSync(join(root, "f"), "x");
    chmodSync(root, 0o755);
    const before = await contentHash(root, []);
    setXattr(join(root, "f"), "user.k", new TextEncoder().encode("v"));
    const after = await contentHash(root, []);
    expect(after).not.toBe(before);
    setXattr(join(root, "f"), "user.k", new TextEncoder().encode("w"));
    expect(await contentHash(root, [])).not.toBe(after);
  });
});
