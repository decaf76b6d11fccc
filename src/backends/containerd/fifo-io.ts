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
  /** The stdin FIFO, when the process is given input. */
  readonly stdin?: string;
  /** Resolves when all the input is in the FIFO; then closeInput and Tasks.CloseIO end it. */
  readonly inputWritten?: Promise<void>;
  closeInput(): void;
  /** Called once the task has started: the streams may now end. */
  started(): void;
  /** Resolves when both streams have ended (or fails with the first error of write). */
  readonly done: Promise<void>;
  /** Stops reading (a task that will not end its streams), closes everything and removes the FIFOs. */
  close(): Promise<void>;
}

export async function openTaskFifos(dir: string, sinks: { stdout(c: Uint8Array): void; stderr(c: Uint8Array): void; readonly stdin?: AsyncIterable<Uint8Array> }): Promise<TaskFifos> {
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
  const stdin = sinks.stdin ? feedFifo(join(dir, "stdin"), sinks.stdin) : undefined;
  const closePlaceholders = () => {
    for (const fd of placeholders.splice(0)) closeSync(fd);
  };
  return {
    stdout: out.path,
    stderr: err.path,
    ...(stdin ? { stdin: stdin.path, inputWritten: stdin.written } : {}),
    closeInput: () => stdin?.close(),
    started: closePlaceholders,
    done: Promise.all([out.done, err.done]).then(() => undefined),
    async close() {
      closePlaceholders();
      stdin?.close();
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

/**
 * A stdin FIFO the shim reads: opened read-write (so opening needs no reader yet, and what is
 * written before the shim opens it waits in the pipe), fed from source. The process sees the
 * end of its input once we have closed ours and the shim its own writer (Tasks.CloseIO).
 */
function feedFifo(path: string, source: AsyncIterable<Uint8Array>): { path: string; written: Promise<void>; close(): void } {
  mkfifo(path, 0o600);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const sink = Bun.file(fd).writer();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      void sink.end();
    } catch {
      // already ended
    }
    // The writer does not close an fd it was given.
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  };
  const written = (async () => {
    try {
      for await (const chunk of source) {
        if (closed) return;
        sink.write(chunk);
        await sink.flush();
      }
    } catch {
      // the task has gone
    }
  })();
  return { path, written, close };
}
