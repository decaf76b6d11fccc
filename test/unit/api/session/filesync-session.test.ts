// File sync through a SessionCaller (in-process, through the protobuf codecs): the daemon's
// syncDir against the client's provider, local exports, tar exports.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { Writable } from "node:stream";
import { createLocalCaller } from "../../../../src/api/session/local-caller.ts";
import { fileSyncHandler } from "../../../../src/api/session/filesync/provider.ts";
import { copyToCaller, syncDir } from "../../../../src/api/session/filesync/sync.ts";
import { fileSendHandler } from "../../../../src/api/session/filesync/target.ts";
import { copyFileWriter } from "../../../../src/api/session/filesync/tar-target.ts";
import { cleanup, tempDir } from "./helpers.ts";

afterEach(cleanup);

function listFiles(root: string, rel = ""): string[] {
  return readdirSync(`${root}/${rel}`, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((d) => {
      const path = rel ? `${rel}/${d.name}` : d.name;
      return d.isDirectory() ? [`${path}/`, ...listFiles(root, path)] : [path];
    });
}

function sourceTree(): string {
  const src = tempDir();
  mkdirSync(`${src}/src/lib`, { recursive: true });
  mkdirSync(`${src}/node_modules/x`, { recursive: true });
  writeFileSync(`${src}/src/main.ts`, "main");
  writeFileSync(`${src}/src/lib/util.ts`, "util");
  writeFileSync(`${src}/src/lib/util.test.ts`, "test");
  writeFileSync(`${src}/node_modules/x/index.js`, "x");
  writeFileSync(`${src}/README.md`, "readme");
  return src;
}

describe("syncDir ↔ fileSyncHandler", () => {
  test("applies include and exclude patterns on the sender", async () => {
    const src = sourceTree();
    const dest = tempDir();
    let sent = 0;
    const caller = createLocalCaller([fileSyncHandler(new Map([["context", { dir: src }]]), { onProgress: (_n, b) => (sent = b) })]);
    const result = await syncDir(caller, dest, { name: "context", includePatterns: ["src", "README.md"], excludePatterns: ["**/*.test.ts"] });
    expect(listFiles(dest)).toEqual(["README.md", "src/", "src/lib/", "src/lib/util.ts", "src/main.ts"]);
    expect(result.files).toBe(3);
    expect(sent).toBeGreaterThan(0);
  });

  test("the client's own excludes win unless the daemon overrides them", async () => {
    const src = sourceTree();
    const caller = createLocalCaller([fileSyncHandler(new Map([["context", { dir: src, excludes: ["node_modules"] }]]))]);
    const a = tempDir();
    await syncDir(caller, a, { name: "context", excludePatterns: ["src"] });
    expect(listFiles(a)).toEqual(["README.md", "src/", "src/lib/", "src/lib/util.test.ts", "src/lib/util.ts", "src/main.ts"]);
    const b = tempDir();
    await syncDir(caller, b, { name: "context", excludePatterns: ["src"], overrideExcludes: true });
    expect(listFiles(b)).toEqual(["README.md", "node_modules/", "node_modules/x/", "node_modules/x/index.js"]);
  });

  test("follow paths include a symlink's target", async () => {
    const src = sourceTree();
    symlinkSync("src/main.ts", `${src}/entry`);
    const dest = tempDir();
    const caller = createLocalCaller([fileSyncHandler(new Map([["context", { dir: src }]]))]);
    await syncDir(caller, dest, { name: "context", followPaths: ["entry"] });
    expect(listFiles(dest)).toEqual(["entry", "src/", "src/main.ts"]);
  });

  test("an unknown directory name is NotFound, naming it", async () => {
    const caller = createLocalCaller([fileSyncHandler(new Map())]);
    const err = await syncDir(caller, tempDir(), { name: "nope" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "NotFound" });
    expect((err as Error).message).toBe('transferring local dir "nope": serving local dir: no access allowed to dir "nope"');
  });

  test("a client without local dirs is a clear error", async () => {
    await expect(syncDir(createLocalCaller([]), tempDir(), { name: "context" })).rejects.toThrow("the client serves no local directories");
  });
});

describe("exports to the client", () => {
  test("type=local writes over same-named files and removes nothing", async () => {
    const result = tempDir();
    mkdirSync(`${result}/bin`);
    writeFileSync(`${result}/bin/app`, "new app");
    writeFileSync(`${result}/VERSION`, "2");
    const out = tempDir();
    mkdirSync(`${out}/bin`);
    writeFileSync(`${out}/bin/app`, "old app, longer than the new one");
    writeFileSync(`${out}/bin/other`, "kept");
    writeFileSync(`${out}/notes`, "kept");
    const caller = createLocalCaller([fileSendHandler({ kind: "dir", dir: out })]);
    await copyToCaller(caller, result);
    expect(listFiles(out)).toEqual(["VERSION", "bin/", "bin/app", "bin/other", "notes"]);
    expect(readFileSync(`${out}/bin/app`, "utf8")).toBe("new app");
    expect(readFileSync(`${out}/notes`, "utf8")).toBe("kept");
  });

  test("type=tar streams bytes to the client's writer with the exporter's metadata", async () => {
    const chunks: Buffer[] = [];
    let md: Record<string, string> | undefined;
    const sink = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _e, cb) {
        chunks.push(chunk);
        setTimeout(cb, 0); // a slow disk
      },
    });
    const caller = createLocalCaller([
      fileSendHandler({
        kind: "writer",
        open: async (m) => {
          md = m;
          return sink;
        },
      }),
    ]);
    const w = copyFileWriter(caller, { "image.name": "x" });
    const payload = Buffer.alloc(300_000);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    for (let off = 0; off < payload.length; off += 1000) {
      if (!w.write(payload.subarray(off, off + 1000))) await new Promise((r) => w.once("drain", r));
    }
    await new Promise<void>((resolve, reject) => w.end((err?: Error | null) => (err ? reject(err) : resolve())));
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
    expect(md).toEqual({ "image.name": "x" });
    expect(sink.writableFinished).toBe(true);
  });

  test("a tar target that exists already is AlreadyExists", async () => {
    const caller = createLocalCaller([fileSendHandler({ kind: "writer", open: async () => undefined })]);
    const w = copyFileWriter(caller);
    w.write("x");
    const err = await new Promise<Error | null | undefined>((resolve) => {
      w.on("error", resolve);
      w.end();
    });
    expect(err).toMatchObject({ code: "AlreadyExists" });
  });
});
