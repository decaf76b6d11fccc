import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, symlinkSync, lstatSync } from "node:fs";
import { createMessagePipe } from "../../../../src/api/session/message-pipe.ts";
import { GoMode } from "../../../../src/api/session/filesync/file-mode.ts";
import { PacketType, controlPacket, dataPacket, statPacket } from "../../../../src/api/session/filesync/packet.ts";
import type { Packet, Stat } from "../../../../src/api/session/filesync/packet.ts";
import { receiveDir } from "../../../../src/api/session/filesync/receive.ts";
import { cleanup, tempDir } from "./helpers.ts";

afterEach(cleanup);

function stat(path: string, kind: "file" | "dir" | "symlink" = "file", linkname = ""): Stat {
  const type = kind === "dir" ? GoMode.dir : kind === "symlink" ? GoMode.symlink : 0;
  return { path, mode: (type | 0o644) >>> 0, uid: 0, gid: 0, size: 1, modTime: 1e18, linkname, devmajor: 0, devminor: 0, xattrs: {} };
}

/**
 * A scripted sender: sends `stats` and the end of the listing, answers every REQ with one byte
 * and FIN with FIN. Returns the receiver's error (or undefined) and the packets it sent.
 */
async function receiveFrom(dest: string, stats: Stat[], extra: Packet[] = []): Promise<{ error?: Error; got: Packet[] }> {
  const pipe = createMessagePipe<Packet, Packet>();
  const got: Packet[] = [];
  const sender = (async () => {
    for (const s of stats) await pipe.left.send(statPacket(s));
    await pipe.left.send(statPacket());
    for (const p of extra) await pipe.left.send(p);
    for (let p = await pipe.left.recv(); p; p = await pipe.left.recv()) {
      got.push(p);
      if (p.type === PacketType.REQ) {
        await pipe.left.send(dataPacket(p.ID, new Uint8Array([65])));
        await pipe.left.send(dataPacket(p.ID));
      }
      if (p.type === PacketType.FIN) await pipe.left.send(controlPacket(PacketType.FIN));
      if (p.type === PacketType.FIN || p.type === PacketType.ERR) break;
    }
    pipe.left.end();
  })();
  let error: Error | undefined;
  try {
    await receiveDir(dest, pipe.right);
  } catch (err) {
    error = err as Error;
  }
  pipe.right.end();
  await sender;
  return { error, got };
}

/** A dest inside a parent holding an "outside" dir that must stay empty. */
function sandbox(): { dest: string; outside: string; parent: string } {
  const parent = tempDir();
  mkdirSync(`${parent}/dest`);
  mkdirSync(`${parent}/outside`);
  return { parent, dest: `${parent}/dest`, outside: `${parent}/outside` };
}

function expectRejected(result: { error?: Error; got: Packet[] }, fragment: string): void {
  expect(result.error?.message).toContain(fragment);
  expect(result.error?.message).not.toContain("\n");
  expect(result.got.some((p) => p.type === PacketType.ERR)).toBe(true); // the sender is told
}

describe("receiving from a hostile sender", () => {
  const cases: [string, Stat[], string][] = [
    ["a path with ..", [stat("../outside/x")], "escapes the destination"],
    ["the path ..", [stat("..", "dir")], "escapes the destination"],
    ["an absolute path", [stat("/tmp/x")], "absolute path"],
    ["an unclean path", [stat("a", "dir"), stat("a/../../outside/x")], "unclean path"],
    ["a NUL byte", [stat("a\0b")], "NUL byte"],
    ["an empty path", [stat("")], "empty path"],
    ["a path through a symlink", [stat("l", "symlink", "../outside"), stat("l/x")], "parent directory was not sent"],
    ["a child of a file", [stat("f"), stat("f/x")], "parent directory was not sent"],
    ["a file then a dir of the same name", [stat("f"), stat("f", "dir"), stat("f/x")], "out of order"],
    ["paths out of order", [stat("b"), stat("a")], "out of order"],
    ["a hard link to an unknown path", [stat("h", "file", "../outside/x")], "hard link to unknown path"],
    ["a missing parent", [stat("x/y")], "parent directory was not sent"],
  ];
  for (const [name, stats, fragment] of cases) {
    test(`rejects ${name}`, async () => {
      const { dest, outside, parent } = sandbox();
      expectRejected(await receiveFrom(dest, stats), fragment);
      expect(readdirSync(outside)).toEqual([]);
      expect(readdirSync(parent).sort()).toEqual(["dest", "outside"]);
    });
  }

  test("replaces a symlink in dest by a real directory instead of writing through it", async () => {
    const { dest, outside } = sandbox();
    symlinkSync("../outside", `${dest}/d`);
    const { error } = await receiveFrom(dest, [stat("d", "dir"), stat("d/x")]);
    expect(error).toBeUndefined();
    expect(readdirSync(outside)).toEqual([]);
    expect(lstatSync(`${dest}/d`).isDirectory()).toBe(true);
    expect(existsSync(`${dest}/d/x`)).toBe(true);
  });

  test("rejects data for a file it did not request", async () => {
    const { dest } = sandbox();
    expectRejected(await receiveFrom(dest, [stat("a", "dir")], [dataPacket(7, new Uint8Array([1]))]), "not requested");
  });

  test("reports the sender's error", async () => {
    const { dest } = sandbox();
    const pipe = createMessagePipe<Packet, Packet>();
    void pipe.left.send({ type: PacketType.ERR, ID: 0, data: new TextEncoder().encode("walking /src: EACCES") });
    await expect(receiveDir(dest, pipe.right)).rejects.toThrow("receiving files: error from sender: walking /src: EACCES");
  });
});

describe("cancellation", () => {
  test("a receive waiting on a silent sender stops when its signal aborts", async () => {
    const { dest } = sandbox();
    const pipe = createMessagePipe<Packet, Packet>();
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error("build canceled")), 20);
    await expect(receiveDir(dest, pipe.right, { signal: abort.signal })).rejects.toThrow("build canceled");
  });
});
