// `runc run` in the foreground for one bundle: the container's stdout and stderr are the pipes
// runc was given, streamed chunk by chunk to the ProcessIO. runc's own messages go to a JSON log
// file beside the bundle, so they never mix with the process's output; when runc fails to start
// the process they become the error. Aborting kills the container (SIGKILL through `runc kill`).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BuildkitError } from "../../../core/errors.ts";
import type { ProcessIO } from "../../../core/worker/executor.ts";
import { runtimeArgv } from "./hybrid-cgroups.ts";
import { killContainer, runcLogErrors } from "./runc.ts";
import type { Runc } from "./runc.ts";
import { runtimeExecutable } from "./sealed-binary.ts";

/** How long `runc kill` is retried while runc is still creating the container. */
const KILL_RETRY_MS = 1000;
const KILL_RETRY_INTERVAL_MS = 10;

export function canceled(): BuildkitError {
  return new BuildkitError("Canceled", "canceled");
}

export interface RunContainer {
  readonly runc: Runc;
  readonly id: string;
  readonly bundle: string;
  readonly io: ProcessIO;
  /** For error messages: the process's argv[0]. */
  readonly name: string;
}

type Pumped = { error?: unknown };

/** Forwards every chunk of stream to write; an error thrown by write is kept, and reading goes on. */
async function pump(stream: ReadableStream<Uint8Array>, write: (chunk: Uint8Array) => void, state: Pumped): Promise<void> {
  for await (const chunk of stream) {
    try {
      write(chunk);
    } catch (err) {
      state.error ??= err;
    }
  }
}

/**
 * Writes what the process is given to read into its stdin, then closes it. Not awaited: the
 * source may outlast the process (its owner ends it once the process exits); writes to a process
 * that has gone are dropped.
 */
async function feed(source: AsyncIterable<Uint8Array>, sink: Bun.FileSink): Promise<void> {
  try {
    for await (const chunk of source) {
      sink.write(chunk);
      await sink.flush();
    }
  } catch {
    // the process closed its stdin or exited
  } finally {
    try {
      await sink.end();
    } catch {
      // already closed
    }
  }
}

/** Kills the container, retrying while runc has not made it yet; kills runc itself as a last resort. */
async function stop(runc: Runc, id: string, proc: Bun.Subprocess): Promise<void> {
  const deadline = performance.now() + KILL_RETRY_MS;
  while (proc.exitCode === null && proc.signalCode === null) {
    if (await killContainer(runc, id)) return;
    if (performance.now() > deadline) {
      proc.kill("SIGKILL");
      return;
    }
    await Bun.sleep(KILL_RETRY_INTERVAL_MS);
  }
}

async function startError(c: RunContainer, exitCode: number): Promise<BuildkitError | undefined> {
  const log = await readFile(join(c.bundle, "runc.log"), "utf8").catch(() => "");
  const errors = runcLogErrors(log);
  if (errors.length === 0) return undefined;
  return new BuildkitError("Internal", `running ${c.name}: ${errors.join("; ")} (runc exited ${exitCode})`);
}

/** Runs the bundle's process to its end; resolves with its exit code. */
export async function runContainer(c: RunContainer, signal: AbortSignal): Promise<number> {
  const { runc, id, bundle } = c;
  // The sealed copy is executed through <state dir>-bin/<name>, so the process is called runc.
  const args = ["--root", runc.stateDir, "--log", join(bundle, "runc.log"), "--log-format", "json", "run", "--bundle", bundle, id];
  const argv = runtimeArgv(runc.how, runtimeExecutable(runc.path, `${runc.stateDir}-bin`), args);
  // (Under a prefix such as unshare, that command's own argv[0] stays; it execs the runtime by path.)
  const proc = Bun.spawn(argv, { argv0: runc.how.prefix[0] ?? runc.path, stdin: c.io.stdin ? "pipe" : "ignore", stdout: "pipe", stderr: "pipe" });
  if (c.io.stdin && proc.stdin) void feed(c.io.stdin, proc.stdin);
  let stopping: Promise<void> | undefined;
  const onAbort = () => {
    stopping ??= stop(runc, id, proc);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort();
  const pumped: Pumped = {};
  let exitCode: number;
  try {
    [exitCode] = await Promise.all([proc.exited, pump(proc.stdout, c.io.stdout, pumped), pump(proc.stderr, c.io.stderr, pumped)]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  if (stopping) {
    await stopping;
    throw canceled();
  }
  if (pumped.error !== undefined) throw new BuildkitError("Internal", `streaming output of ${c.name}: ${String(pumped.error)}`, { cause: pumped.error });
  const failed = exitCode === 0 ? undefined : await startError(c, exitCode);
  if (failed) throw failed;
  return exitCode;
}
