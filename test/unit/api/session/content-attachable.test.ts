// The client's local content store as the daemon reaches it (session/content attachable):
// writes become visible only whole and verified, digests never become paths outside DIR,
// unknown store ids are NotFound.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "../../../../src/core/digest.ts";
import { contentHandlers } from "../../../../src/api/session/content/attachable.ts";
import { LocalContentStore } from "../../../../src/api/session/content/local-store.ts";
import { STORE_ID_HEADER, WriteAction, type WriteRequest, type WriteResponse } from "../../../../src/api/session/content/methods.ts";
import type { MessageStream, SessionHandler } from "../../../../src/api/session/session.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "content-attachable-"));
  dirs.push(dir);
  const store = new LocalContentStore(dir);
  const handlers = contentHandlers(new Map([[`local:${dir}`, store]]));
  const find = (name: string): SessionHandler => handlers.find((h) => h.method.path.endsWith(`/${name}`))!;
  const ctx = (id = `local:${dir}`) => ({ metadata: { [STORE_ID_HEADER]: [id] }, signal: new AbortController().signal });
  return { dir, store, find, ctx };
}

/** A scripted stream: the requests given, the replies collected. */
function scripted(requests: WriteRequest[]): { stream: MessageStream<unknown, unknown>; replies: WriteResponse[] } {
  const replies: WriteResponse[] = [];
  const queue = [...requests];
  const stream: MessageStream<unknown, unknown> = {
    recv: async () => queue.shift(),
    send: async (m) => void replies.push(m as WriteResponse),
    end: () => undefined,
    signal: new AbortController().signal,
  };
  return { stream, replies };
}

async function write(h: ReturnType<typeof setup>, requests: WriteRequest[]): Promise<WriteResponse[]> {
  const handler = h.find("Write");
  if (handler.kind !== "bidi") throw new Error("Write is bidi");
  const { stream, replies } = scripted(requests);
  await handler.handle(stream, h.ctx());
  return replies;
}

describe("session/content attachable over a local directory", () => {
  const data = new TextEncoder().encode("hello cache\n");
  const digest = sha256(data);

  test("STAT, WRITE, COMMIT store the blob under blobs/sha256; Info and Read answer it", async () => {
    const h = setup();
    const replies = await write(h, [
      { action: WriteAction.STAT, ref: "r1" },
      { action: WriteAction.WRITE, ref: "r1", offset: 0, data: data.subarray(0, 5) },
      { action: WriteAction.WRITE, ref: "r1", offset: 5, data: data.subarray(5) },
      { action: WriteAction.COMMIT, ref: "r1", offset: data.byteLength, total: data.byteLength, expected: digest },
    ]);
    expect(replies.map((r) => Number(r.offset))).toEqual([0, 5, data.byteLength, data.byteLength]);
    expect(replies.at(-1)?.digest).toBe(digest);
    expect(await Bun.file(join(h.dir, "blobs", "sha256", digest.slice(7))).text()).toBe("hello cache\n");
    const info = h.find("Info");
    if (info.kind !== "unary") throw new Error("Info is unary");
    expect(Number(((await info.handle({ digest }, h.ctx())) as { info: { size: number } }).info.size)).toBe(data.byteLength);
    const chunks: Uint8Array[] = [];
    for await (const c of h.store.read(digest, 6, 0)) chunks.push(c.data);
    expect(Buffer.concat(chunks).toString()).toBe("cache\n");
    // A second commit of the same content is AlreadyExists, as containerd's local store says.
    await expect(write(h, [{ action: WriteAction.COMMIT, ref: "r2", data, total: data.byteLength, expected: digest }])).rejects.toMatchObject({ code: "AlreadyExists" });
    await h.store.close();
    expect(existsSync(join(h.dir, "ingest"))).toBe(false);
  });

  test("a digest or size that does not match leaves no blob", async () => {
    const h = setup();
    const wrong = sha256("other");
    await expect(write(h, [{ action: WriteAction.COMMIT, ref: "bad", data, total: data.byteLength, expected: wrong }])).rejects.toThrow(`unexpected commit digest ${digest}, expected ${wrong}`);
    await expect(write(h, [{ action: WriteAction.COMMIT, ref: "short", data, total: data.byteLength + 1, expected: digest }])).rejects.toThrow("expected size");
    expect(existsSync(join(h.dir, "blobs", "sha256", digest.slice(7)))).toBe(false);
    await h.store.close();
    expect(readdirSync(h.dir)).toEqual([]);
  });

  test("digests are validated before they become paths; an unknown store is NotFound", async () => {
    const h = setup();
    const info = h.find("Info");
    if (info.kind !== "unary") throw new Error("Info is unary");
    await expect(info.handle({ digest: "sha256:../../etc/passwd" }, h.ctx())).rejects.toMatchObject({ code: "InvalidArgument" });
    await expect(info.handle({ digest }, h.ctx())).rejects.toMatchObject({ code: "NotFound" });
    await expect(info.handle({ digest }, h.ctx("local:/elsewhere"))).rejects.toThrow("unknown store local:/elsewhere");
    await expect(write(h, [{ action: WriteAction.COMMIT, ref: "x", data, expected: "sha256:.." }])).rejects.toMatchObject({ code: "InvalidArgument" });
    await h.store.close();
    expect(readdirSync(h.dir)).toEqual([]); // the bad digest opened no ingest
  });
});
