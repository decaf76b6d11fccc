/**
 * Runs a prepared bundle (see the standalone executor: rootfs mounted on the host, spec built)
 * as a containerd container and task, as BuildKit's containerd executor does: the rootfs is
 * handed to the shim as an rbind mount, stdin/stdout/stderr go through FIFOs, the exit status
 * from Tasks.Wait. Aborting kills every process of the task (SIGKILL); the task and the
 * container are always deleted before this returns.
 */
import { join } from "node:path";
import { BuildkitError } from "../../core/errors.ts";
import type { ContainerLauncher, LaunchParams } from "../standalone/executor/index.ts";
import type { ContainerdClient } from "./client.ts";
import { openTaskFifos } from "./fifo-io.ts";
import { ContainersService, TasksService } from "./services.ts";

const T = TasksService.methods;
const SPEC_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
const RUNTIME = "io.containerd.runc.v2";
const SIGKILL = 9;
/** How long output may still arrive after the task is deleted before reading stops. */
const OUTPUT_DRAIN_MS = 5000;

export interface TaskLauncherOptions {
  readonly client: ContainerdClient;
  /** The lease a container is made under (the current process lease, read per container). */
  readonly lease: () => string;
  /** Label that marks containers as this worker's (for the sweep after a crash). */
  readonly labels: Readonly<Record<string, string>>;
}

export function createTaskLauncher(opts: TaskLauncherOptions): ContainerLauncher {
  return (p, signal) => runTask(opts, p, signal);
}

async function runTask(opts: TaskLauncherOptions, p: LaunchParams, signal: AbortSignal): Promise<number> {
  const { client } = opts;
  const id = `buildkit-ts-${p.id}`;
  const spec = { ...p.spec, root: { ...p.spec.root, path: "rootfs" } };
  await client.unary(`creating container for ${p.name}`, ContainersService.methods.Create, {
    container: {
      id,
      labels: { ...opts.labels },
      runtime: { name: RUNTIME },
      spec: { type_url: SPEC_TYPE_URL, value: new TextEncoder().encode(JSON.stringify(spec)) },
    },
  }, { lease: opts.lease() });
  const fifos = await openTaskFifos(join(p.bundle, "fifos"), p.io);
  try {
    return await startAndWait(opts, id, p, fifos, signal);
  } finally {
    await fifos.close();
    await client.unary(`deleting container ${id}`, ContainersService.methods.Delete, { id }).catch(() => undefined);
  }
}

async function startAndWait(opts: TaskLauncherOptions, id: string, p: LaunchParams, fifos: Awaited<ReturnType<typeof openTaskFifos>>, signal: AbortSignal): Promise<number> {
  const { client } = opts;
  await client.unary(`creating task for ${p.name}`, T.Create, {
    container_id: id,
    rootfs: [{ type: "bind", source: join(p.bundle, "rootfs"), options: ["rbind"] }],
    stdout: fifos.stdout,
    stderr: fifos.stderr,
    ...(fifos.stdin ? { stdin: fifos.stdin } : {}),
  });
  let killed = false;
  const kill = () => {
    killed = true;
    client.unary(`killing ${p.name}`, T.Kill, { container_id: id, signal: SIGKILL, all: true }).catch(() => undefined);
  };
  try {
    // Wait is asked for before Start, so an exit is never missed.
    const waited = client.unary(`waiting for ${p.name}`, T.Wait, { container_id: id });
    waited.catch(() => undefined);
    await client.unary(`starting ${p.name}`, T.Start, { container_id: id });
    fifos.started();
    // The end of the input: our writer closed, then the shim's (it holds one open until told).
    void fifos.inputWritten?.then(async () => {
      fifos.closeInput();
      await client.unary(`closing stdin of ${p.name}`, T.CloseIO, { container_id: id, stdin: true }).catch(() => undefined);
    });
    signal.addEventListener("abort", kill, { once: true });
    if (signal.aborted) kill();
    const status = await waited;
    if (killed) throw new BuildkitError("Canceled", "canceled");
    return status.exit_status ?? 0;
  } finally {
    signal.removeEventListener("abort", kill);
    fifos.started();
    await client.unary(`deleting task ${id}`, T.Delete, { container_id: id }).catch(async () => {
      // A task still running (a failed Start or Wait): kill it, then delete.
      await client.unary(`killing ${id}`, T.Kill, { container_id: id, signal: SIGKILL, all: true }).catch(() => undefined);
      await client.unary(`deleting task ${id}`, T.Delete, { container_id: id }).catch(() => undefined);
    });
    // A cleared timer, not Bun.sleep: a pending sleep kept a daemonless build's process up for
    // OUTPUT_DRAIN_MS after its last step.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([fifos.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, OUTPUT_DRAIN_MS)))]);
    clearTimeout(timer);
  }
}
