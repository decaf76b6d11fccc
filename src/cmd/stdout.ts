// stdout as a pipe's reader may close it early (`buildkit du | head -1`): the command then runs
// to its end (a prune still prunes) with nothing more written, and exits quietly, as a
// well-behaved filter does; no EPIPE stack trace.

let closed = false;
let guarded = false;

const isBrokenPipe = (err: unknown): boolean => (err as NodeJS.ErrnoException | undefined)?.code === "EPIPE";

/**
 * Installs the handler for process.stdout's asynchronous EPIPE errors (once). Called where a
 * command first uses process.stdout, not at start-up: making that stream loads node:stream and
 * friends (~8 ms), which a build writing through Bun.stdout or not at all never needs.
 */
export function guardStdout(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on("error", (err: unknown) => {
    if (!isBrokenPipe(err)) throw err;
    closed = true;
  });
}

/** process.stdout, guarded against a reader that goes away. */
export function stdoutStream(): NodeJS.WriteStream {
  guardStdout();
  return process.stdout;
}

/** Whether the reader of stdout went away. */
export function stdoutClosed(): boolean {
  return closed;
}

/** Writes bytes to stdout, waiting for them to be taken; a closed pipe ends the writing quietly. */
export async function writeStdout(data: Uint8Array | string): Promise<void> {
  if (closed) return;
  try {
    await Bun.write(Bun.stdout, data);
  } catch (err) {
    if (!isBrokenPipe(err)) throw err;
    closed = true;
  }
}
