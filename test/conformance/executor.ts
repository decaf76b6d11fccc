// The shared Executor suite, run through a whole Worker: a busybox root filesystem committed
// as a snapshot with the worker's own snapshotter, then processes run on views and actives of it.
import { describe, expect, test } from "bun:test";
import { BuildkitError } from "../../src/core/errors.ts";
import type { ProcessMeta } from "../../src/core/worker/executor.ts";
import { buildSnapshot, discard, prepareMutable } from "../../src/core/worker/snapshots.ts";
import type { Worker } from "../../src/core/worker/worker.ts";
import { makeBusyboxRootfs } from "../fixtures/busybox-rootfs.ts";

export interface WorkerFixture {
  readonly worker: Worker;
  cleanup(): Promise<void>;
}

const META: ProcessMeta = { args: ["true"], env: ["PATH=/bin:/usr/bin:/sbin"], cwd: "/", user: "", network: "none", security: "sandbox" };
const never = new AbortController().signal;

interface Ran {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function run(worker: Worker, rootfs: string, meta: Partial<ProcessMeta> & Pick<ProcessMeta, "args">, opts: { signal?: AbortSignal; onStdout?: (s: string) => void; stdin?: AsyncIterable<Uint8Array> } = {}): Promise<Ran> {
  const m = await prepareMutable(worker, rootfs);
  let stdout = "";
  let stderr = "";
  try {
    const io = {
      stdout: (c: Uint8Array) => {
        const text = new TextDecoder().decode(c);
        stdout += text;
        opts.onStdout?.(text);
      },
      stderr: (c: Uint8Array) => void (stderr += new TextDecoder().decode(c)),
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
    };
    const { exitCode } = await worker.executor.run({ root: m.mounts, mounts: [], meta: { ...META, ...meta }, io }, opts.signal ?? never);
    return { exitCode, stdout, stderr };
  } finally {
    await discard(worker, [m.key]);
  }
}

export function describeExecutor(name: string, factory: () => Promise<WorkerFixture>): void {
  const withWorker = async (fn: (w: Worker, rootfs: string) => Promise<void>) => {
    const f = await factory();
    try {
      const rootfs = await buildSnapshot(f.worker, undefined, async (dir) => makeBusyboxRootfs(dir));
      try {
        await fn(f.worker, rootfs);
      } finally {
        await f.worker.snapshotter.remove(rootfs).catch(() => undefined);
      }
    } finally {
      await f.cleanup();
    }
  };

  describe(`Executor conformance: ${name}`, () => {
    test("exit status, stdout and stderr kept apart", () =>
      withWorker(async (w, rootfs) => {
        expect(await run(w, rootfs, { args: ["sh", "-c", "echo out; echo err >&2; exit 3"] })).toEqual({ exitCode: 3, stdout: "out\n", stderr: "err\n" });
        expect((await run(w, rootfs, { args: ["true"] })).exitCode).toBe(0);
      }));

    test("env, cwd, user and hostname reach the process", () =>
      withWorker(async (w, rootfs) => {
        const r = await run(w, rootfs, { args: ["sh", "-c", 'echo "$FOO $(pwd) $(id -u):$(id -g) $(hostname)"'], env: ["PATH=/bin", "FOO=bar"], cwd: "/tmp/work", user: "1000:1000", hostname: "box" });
        expect(r).toEqual({ exitCode: 0, stdout: "bar /tmp/work 1000:1000 box\n", stderr: "" });
      }));

    test("writes land in the active snapshot; a missing program is an error, not a hang", () =>
      withWorker(async (w, rootfs) => {
        const m = await prepareMutable(w, rootfs);
        try {
          const io = { stdout: () => {}, stderr: () => {} };
          await w.executor.run({ root: m.mounts, mounts: [], meta: { ...META, args: ["sh", "-c", "echo data > /made"] }, io }, never);
          expect(await w.withMounted(m.mounts, (dir) => Bun.file(`${dir}/made`).text())).toBe("data\n");
        } finally {
          await discard(w, [m.key]);
        }
        const missing = await run(w, rootfs, { args: ["/no/such/program"] }).then((r) => r.exitCode, (e: unknown) => e);
        if (typeof missing === "number") expect(missing).not.toBe(0);
        else expect(missing).toBeInstanceOf(BuildkitError);
      }));

    test("stdin streams to the process as it comes, and its end is the process's end of input", () =>
      withWorker(async (w, rootfs) => {
        // A conversation: the second line is sent only once the answer to the first has come back.
        let answered: () => void = () => {};
        const firstAnswer = new Promise<void>((resolve) => (answered = resolve));
        async function* talk(): AsyncGenerator<Uint8Array> {
          yield new TextEncoder().encode("one\n");
          await firstAnswer;
          yield new TextEncoder().encode("two\n");
        }
        const r = await run(w, rootfs, { args: ["sh", "-c", 'read a; echo "got $a"; read b; echo "got $b"; cat'] }, { stdin: talk(), onStdout: (t) => t.includes("got one") && answered() });
        expect(r).toEqual({ exitCode: 0, stdout: "got one\ngot two\n", stderr: "" });
        // More than a pipe holds, in chunks: all of it arrives.
        async function* bulk(): AsyncGenerator<Uint8Array> {
          for (let i = 0; i < 32; i++) yield new Uint8Array(64 * 1024).fill(97);
        }
        expect((await run(w, rootfs, { args: ["sh", "-c", "wc -c"] }, { stdin: bulk() })).stdout.trim()).toBe(String(32 * 64 * 1024));
      }));

    test("aborting kills the process and fails with Canceled", () =>
      withWorker(async (w, rootfs) => {
        const ac = new AbortController();
        const started = Date.now();
        const err = await run(w, rootfs, { args: ["sh", "-c", "echo ready; sleep 60"] }, { signal: ac.signal, onStdout: (t) => t.includes("ready") && ac.abort() }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(BuildkitError);
        expect((err as BuildkitError).code).toBe("Canceled");
        expect(Date.now() - started).toBeLessThan(20_000);
      }));
  });
}
