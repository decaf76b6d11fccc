/** Temp dirs and a send ↔ receive pair over an in-memory pipe. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMessagePipe } from "../../../../src/api/session/message-pipe.ts";
import type { Packet } from "../../../../src/api/session/filesync/packet.ts";
import { sendDir } from "../../../../src/api/session/filesync/send.ts";
import type { SendOptions } from "../../../../src/api/session/filesync/send.ts";
import { receiveDir } from "../../../../src/api/session/filesync/receive.ts";
import type { ReceiveOptions, ReceiveResult } from "../../../../src/api/session/filesync/receive.ts";

const made: string[] = [];

/**
 * Removes the temp dirs made so far. Each test file calls `afterEach(cleanup)` itself: a hook
 * registered here would run only for the first file that imports this module.
 */
export function cleanup(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A temp dir removed after the test (by cleanup), pass or fail. */
export function tempDir(prefix = "fsync-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Sends `src` into `dest` as the daemon would pull a `--local` dir; each side ends its stream when done. */
export async function transfer(src: string, dest: string, send: SendOptions = {}, recv: ReceiveOptions = {}): Promise<ReceiveResult> {
  const pipe = createMessagePipe<Packet, Packet>();
  const sending = sendDir(src, pipe.left, send).finally(() => pipe.left.end());
  const receiving = receiveDir(dest, pipe.right, recv).finally(() => pipe.right.end());
  const [sent, received] = await Promise.allSettled([sending, receiving]);
  if (received.status === "rejected") throw received.reason;
  if (sent.status === "rejected") throw sent.reason;
  return received.value;
}
