// BuildKit's content checksum (src/core/cache/contenthash) against digests BuildKit v0.11.6
// computed for the same tree: contenthash-vectors.json holds the records rootKey(digest, -1)
// the peer exported for copies from test/fixtures/content-tree.ts (contenthash-vectors.gen.ts
// made them), so each vector checks the whole chain: headers, contents, directory digests,
// links, wildcards and patterns, and the local-source root.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contentHash, tarsumHeader } from "../../../src/core/cache/contenthash/index.ts";
import { rootKey } from "../../../src/core/cache/remote/buildkit-cache-map.ts";
import { makeContentTree, TREE_VECTORS } from "../../fixtures/content-tree.ts";
import vectors from "./contenthash-vectors.json";

const asRoot = process.getuid?.() === 0;
let dir: string;
let tree: string;
/** The tree as BuildKit's snapshots hold it: the local source made every owner 0. */
let snapshot: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "contenthash-"));
  tree = join(dir, "tree");
  mkdirSync(tree);
  snapshot = join(dir, "snapshot");
  mkdirSync(snapshot);
  if (asRoot) makeContentTree(tree);
  if (asRoot) makeContentTree(snapshot, { owners: false });
  chmodSync(tree, 0o755);
  chmodSync(snapshot, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!asRoot)("content checksum against BuildKit v0.11.6", () => {
  for (const v of TREE_VECTORS) {
    test(v.name, async () => {
      const sel = { path: v.src, followLinks: v.followSymlinks ?? false, wildcard: (v.allowWildcard ?? false) && /[*?[]/.test(v.src), includePatterns: v.includePatterns ?? [], excludePatterns: v.excludePatterns ?? [] };
      const digest = await contentHash(v.scanned ? snapshot : tree, [sel], { localSource: !v.scanned });
      expect(String(rootKey(digest, -1))).toBe((vectors as Record<string, string>)[v.name]!);
    });
  }
});

describe("content checksum", () => {
  test("tarsum header: permission and special bits, size for regular files only, link names for symlinks", () => {
    const base = { uid: 1, gid: 2, size: 5, linkname: "t", devmajor: 0, devminor: 0 };
    const text = (b: Uint8Array) => Buffer.from(b).toString("latin1");
    expect(text(tarsumHeader({ ...base, mode: 0o104755 }))).toBe("namemode2541uid1gid2size5typeflag0linknameunamegnamedevmajor0devminor0");
    expect(text(tarsumHeader({ ...base, mode: 0o40700 }))).toBe("namemode448uid1gid2size0typeflag5linknameunamegnamedevmajor0devminor0");
    expect(text(tarsumHeader({ ...base, mode: 0o120777 }))).toBe("namemode511uid1gid2size0typeflag2linknametunamegnamedevmajor0devminor0");
    const v = (s: string) => new TextEncoder().encode(s);
    const xattrs = new Map([["user.b", v("2")], ["security.selinux", v("x")], ["user.a", v("1")], ["security.capability", v("c")], ["system.posix_acl_access", v("p")], ["user.raw", new Uint8Array([0xff, 0])]]);
    expect(text(tarsumHeader({ ...base, mode: 0o100644, xattrs }))).toEndWith("devminor0security.capabilitycuser.a1user.b2user.raw\xff\0");
  });

  test("no selectors checksum the whole tree; a missing path is an error", async () => {
    const d = join(dir, "small");
    mkdirSync(d);
    writeFileSync(join(d, "f"), "x");
    symlinkSync("f", join(d, "l"));
    const whole = await contentHash(d, []);
    expect(whole).toBe(await contentHash(d, [{ path: "/", followLinks: false, wildcard: false, includePatterns: [], excludePatterns: [] }]));
    expect(contentHash(d, [{ path: "/missing", followLinks: false, wildcard: false, includePatterns: [], excludePatterns: [] }])).rejects.toThrow(/computing content checksum: .*not found/);
  });
});
