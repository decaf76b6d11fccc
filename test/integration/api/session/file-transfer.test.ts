// The session's file services end to end in one process, every message through the protobuf
// codecs: a `--local` mirror kept between builds, and a tar export written to the client's file.
import { afterEach, describe, expect, test } from "bun:test";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalCaller } from "../../../../src/api/session/local-caller.ts";
import { fileSyncHandler } from "../../../../src/api/session/filesync/provider.ts";
import { syncDir } from "../../../../src/api/session/filesync/sync.ts";
import { fileSendHandler } from "../../../../src/api/session/filesync/target.ts";
import { copyFileWriter } from "../../../../src/api/session/filesync/tar-target.ts";
import { createTarExporter } from "../../../../src/core/exporters/tar/index.ts";

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "session-it-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("local dir mirror", () => {
  test("after one change in 2,000 files, the next sync moves under 5% of the bytes", async () => {
    const client = temp();
    for (let d = 0; d < 40; d++) {
      mkdirSync(`${client}/pkg${d}`);
      for (let f = 0; f < 50; f++) writeFileSync(`${client}/pkg${d}/file${f}.txt`, `${d}/${f} `.repeat(200));
    }
    const caller = createLocalCaller([fileSyncHandler(new Map([["context", { dir: client }]]))]);
    const mirror = temp();
    let progress = 0;
    const first = await syncDir(caller, mirror, { name: "context", onProgress: (bytes) => (progress = bytes) });
    expect(first.files).toBe(2000);
    expect(progress).toBe(first.bytes);
    writeFileSync(`${client}/pkg17/file3.txt`, "changed");
    const second = await syncDir(caller, mirror, { name: "context" });
    expect(second.files).toBe(1);
    expect(second.bytes / first.bytes).toBeLessThan(0.05);
    const third = await syncDir(caller, mirror, { name: "context" });
    expect(third.files).toBe(0);
  }, 60_000);
});

describe("tar export", () => {
  test("a tar stream from the daemon lands in the client's file intact", async () => {
    const result = temp();
    mkdirSync(`${result}/etc`);
    writeFileSync(`${result}/etc/hostname`, "built\n");
    writeFileSync(`${result}/blob`, Buffer.alloc(3_000_000, 7));
    const out = join(temp(), "out.tar");
    const caller = createLocalCaller([fileSendHandler({ kind: "writer", open: async () => createWriteStream(out) })]);
    await createTarExporter({ stdout: () => copyFileWriter(caller) })
      .resolve({ dest: "-" })
      .export({ withMounted: (fn) => fn(result) }, new AbortController().signal);
    const list = Bun.spawnSync(["tar", "-tvf", out]).stdout.toString();
    expect(list).toContain("etc/hostname");
    expect(list).toMatch(/3000000 .* blob/);
    const extracted = temp();
    expect(Bun.spawnSync(["tar", "-xf", out, "-C", extracted]).exitCode).toBe(0);
    expect(await Bun.file(`${extracted}/etc/hostname`).text()).toBe("built\n");
  });
});
