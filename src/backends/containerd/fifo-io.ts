/**
 * A task's stdout and stderr through FIFOs, as containerd's cio does: we make the FIFOs and open
 * their read ends (non-blocking, so opening needs no writer); the shim opens the write ends when
 * the task is created. A placeholder writer of ours keeps a read from seeing end-of-file before
 * the shim has opened its end; it is closed once the task has started, so the streams end when
 * the shim closes its ends (the process and everything holding its output have exited).
 */
import { closeSync, constants, openSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { mkfifo } from "./mkfifo.ts";

export interface TaskFifos {
  readonly stdout: string;
  readonly stderr: string;
  /** Called once the task has started: the streams may now end. */
  started(): void;
  /** Resolves when both streams have ended (or fails with the first error of write). */
  readonly done: Promise<void>;
  /** Stops reading (a task that will not end its streams), closes everything and removes the FIFOs. */
  close(): Promise<void>;
}

export async function openTaskFifos(dir: string, sinks: { stdout(c: Uint8Array): void; stderr(c: Uint8Array): void }): Promise<TaskFifos> {
  await mkdir(dir, { recursive: true });
  const fds: number[] = [];
  const placeholders: number[] = [];
  const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  const open = (name: "stdout" | "stderr"): { path: string; done: Promise<void> } => {
    const path = join(dir, name);
    mkfifo(path, 0o600);
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    fds.push(fd);
    placeholders.push(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
    const reader = Bun.file(fd).stream().getReader() as ReadableStreamDefaultReader<Uint8Array>;
    readers.push(reader);
    const write = sinks[name];
    const done = (async () => {
      for (;;) {
        const { done: end, value } = await reader.read();
        if (end) return;
        write(value);
      }
    })();
    return { path, done };
  };
  const out = open("stdout");
  const err = open("stderr");
  const closePlaceholders = () => {
    for (const fd of placeholders.splice(0)) closeSync(fd);
  };
  return {
    stdout: out.path,
    stderr: err.path,
    started: closePlaceholders,
    done: Promise.all([out.done, err.done]).then(() => undefined),
    async close() {
      closePlaceholders();
      for (const r of readers) await r.cancel().catch(() => undefined);
      for (const fd of fds.splice(0)) {
        try {
          closeSync(fd);
        } catch {
          // already closed by the stream
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
