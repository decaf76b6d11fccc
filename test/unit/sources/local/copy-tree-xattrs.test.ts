// A local source's copy keeps the files' and directories' xattrs, as BuildKit's file receiver
// sets those its client sends: BuildKit's content checksum of the snapshot includes them, so a
// COPY from a context with xattrs must see them to get BuildKit's cache keys
// (test/integration/cache-remote/peer.test.ts checks that against buildkitd).
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getXattr, setXattr } from "../../../../src/core/fs/sys.ts";
import { copyTree } from "../../../../src/core/sources/local/index.ts";

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "buildkit-ts-copy-xattrs-"));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

function userXattrsWork(dir: string): boolean {
  const probe = join(dir, "probe");
  writeFileSync(probe, "");
  try {
    setXattr(probe, "user.probe", new Uint8Array([1]));
    return getXattr(probe, "user.probe")?.[0] === 1;
  } catch {
    return false;
  } finally {
    rmSync(probe);
  }
}

test("files and directories keep their xattrs, binary values included", async () => {
  if (!userXattrsWork(base)) {
    if (process.env.CI === "true") throw new Error(`${tmpdir()} has no user xattrs`);
    console.log(`skipping: ${tmpdir()} has no user xattrs`);
    return;
  }
  const src = join(base, "src");
  const dest = join(base, "dest");
  mkdirSync(join(src, "d"), { recursive: true });
  mkdirSync(dest);
  writeFileSync(join(src, "d/f"), "x");
  setXattr(join(src, "d/f"), "user.a", new TextEncoder().encode("one"));
  setXattr(join(src, "d/f"), "user.bin", new Uint8Array([0, 0xff]));
  setXattr(join(src, "d"), "user.dir", new TextEncoder().encode("yes"));
  await copyTree(src, dest);
  expect(Buffer.from(getXattr(join(dest, "d/f"), "user.a") ?? []).toString()).toBe("one");
  expect([...(getXattr(join(dest, "d/f"), "user.bin") ?? [])]).toEqual([0, 0xff]);
  expect(Buffer.from(getXattr(join(dest, "d"), "user.dir") ?? []).toString()).toBe("yes");
});
