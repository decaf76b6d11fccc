// The standalone worker's Executor: one runc container per process.
//
// Layout under opts.root: `bundles/<id>/` (config.json, rootfs/ with the root mounts on it,
// mounts/<n>/ for step mounts that need a host-side mount, hosts, resolv.conf, runc.log) and
// `runc/` (runc's state dir). Everything made for a run is undone when it ends, in reverse order:
// runc's container, the mount stubs runc left in the rootfs, the host mounts, the bundle dir.
// After a crash, sweepRunc(root) cleans up what is left.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { BuildkitError, withContext } from "../../../core/errors.ts";
import type { ExecMount, Executor, ProcessIO, ProcessMeta } from "../../../core/worker/executor.ts";
import type { Mount } from "../../../core/worker/mount.ts";
import { mountAll } from "../sys/mount.ts";
import { Cleanup, unmountWithFallback } from "./cleanup.ts";
import { inMountOrder, prepareExecMounts } from "./mounts.ts";
import { DEFAULT_HOSTNAME, writeNetworkFiles } from "./network.ts";
import type { NetworkFiles } from "./network.ts";
import { canceled, runContainer } from "./process.ts";
import { deleteContainer } from "./runc.ts";
import type { Runc } from "./runc.ts";
import { buildSpec } from "./spec.ts";
import type { RuntimeSpec, SpecMount } from "./spec.ts";
import { recordStubs, removeStubs } from "./stubs.ts";
import { resolveScoped } from "./scoped-path.ts";
import { removeBundle, runcFor } from "./sweep.ts";
import { resolveUser } from "./user.ts";
import { makeWorkingDir } from "./working-dir.ts";

export { runtimeDirs, sweepRunc, sweepRuntimes } from "./sweep.ts";
export type { RuncSweepReport } from "./sweep.ts";
export { findRunc } from "./runc.ts";
export { chooseRuntime } from "./oci-runtime.ts";
export type { ChosenRuntime, OciRuntimeRequest } from "./oci-runtime.ts";

export interface RuncExecutorOptions {
  /** State dir for bundles and runc's own state. */
  readonly root: string;
  /** The OCI runtime binary (runc, crun: runc's command line); runc found on PATH (or in the sbin dirs) when not given. */
  readonly runcPath?: string;
  /**
   * Without runcPath: finds the runtime binary when the first container runs (undefined: runc),
   * so opening a worker that runs no container costs nothing.
   */
  readonly runtime?: () => Promise<string | undefined>;
  /**
   * Runs the prepared bundle's process instead of `runc run` (the containerd backend hands it
   * to containerd as a container and task); resolves with the exit code, kills on abort.
   */
  readonly launch?: ContainerLauncher;
}

export interface LaunchParams {
  readonly id: string;
  /** Holds rootfs/ (mounted), hosts, resolv.conf and step mounts; removed after the run. */
  readonly bundle: string;
  /** The spec written to bundle/config.json (root.path is the absolute rootfs). */
  readonly spec: RuntimeSpec;
  readonly io: ProcessIO;
  /** For error messages: the process's argv[0]. */
  readonly name: string;
}

export type ContainerLauncher = (p: LaunchParams, signal: AbortSignal) => Promise<number>;
export type { RuntimeSpec } from "./spec.ts";

interface RunParams {
  readonly root: readonly Mount[];
  readonly mounts: readonly ExecMount[];
  readonly meta: ProcessMeta;
  readonly io: ProcessIO;
}

export function createRuncExecutor(opts: RuncExecutorOptions): Executor {
  return new RuncExecutor(opts);
}

/** True when the root mounts make a read-only rootfs (a view: "ro", or overlay without upperdir). */
function isReadonlyRoot(root: readonly Mount[]): boolean {
  const top = root[root.length - 1];
  if (!top) return false;
  return top.options.includes("ro") || (top.type === "overlay" && !top.options.some((o) => o.startsWith("upperdir=")));
}

/**
 * The generated /etc/hosts and /etc/resolv.conf binds, unless the step mounts its own there. A
 * read-only rootfs only gets those it has a file for: runc could not create the mount point.
 */
function networkMounts(files: NetworkFiles, stepMounts: readonly SpecMount[], rootfs: string, readonlyRoot: boolean): SpecMount[] {
  const taken = new Set(stepMounts.map((m) => m.destination));
  const binds = [
    { destination: "/etc/hosts", type: "bind", source: files.hosts, options: ["rbind", "ro"] },
    { destination: "/etc/resolv.conf", type: "bind", source: files.resolvConf, options: ["rbind", "ro"] },
  ];
  const mountable = (dest: string) => !readonlyRoot || existsSync(resolveScoped(rootfs, dest).path);
  return binds.filter((m) => !taken.has(m.destination) && mountable(m.destination));
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw canceled();
}

class RuncExecutor implements Executor {
  readonly #root: string;
  readonly #runcPath: string | undefined;
  readonly #runtime: (() => Promise<string | undefined>) | undefined;
  readonly #launch: ContainerLauncher | undefined;
  #runc: Promise<Runc> | undefined;

  constructor(opts: RuncExecutorOptions) {
    this.#root = opts.root;
    this.#runcPath = opts.runcPath;
    this.#runtime = opts.runtime;
    this.#launch = opts.launch;
  }

  async run(p: RunParams, signal: AbortSignal): Promise<{ exitCode: number }> {
    throwIfAborted(signal);
    const id = Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString("hex");
    const cleanup = new Cleanup();
    let exitCode: number;
    try {
      exitCode = await this.#runInBundle(id, p, cleanup, signal);
    } catch (err) {
      await cleanup.run();
      throw err;
    }
    const [failure] = await cleanup.run();
    if (failure !== undefined) throw withContext(`cleaning up container ${id}`, failure);
    return { exitCode };
  }

  async #runInBundle(id: string, p: RunParams, cleanup: Cleanup, signal: AbortSignal): Promise<number> {
    const bundle = join(this.#root, "bundles", id);
    const rootfs = join(bundle, "rootfs");
    // Synchronous, like the bundle's other files: a few small calls per step, each cheaper than
    // a thread-pool round trip.
    mkdirSync(rootfs, { recursive: true });
    cleanup.defer(() => removeBundle(bundle));
    mountRootfs(p.root, rootfs, cleanup);
    const rootReadonly = isReadonlyRoot(p.root);
    const specMounts = await this.#specMounts(bundle, p, rootReadonly, cleanup);
    const stubs = recordStubs(rootfs, specMounts.map((m) => m.destination));
    cleanup.defer(() => removeStubs(rootfs, stubs));
    const cwd = posix.resolve("/", p.meta.cwd || "/");
    const user = resolveUser(rootfs, p.meta.user);
    makeWorkingDir(rootfs, cwd, user);
    const spec = buildSpec({
      meta: { ...p.meta, cwd },
      user,
      rootPath: rootfs,
      rootReadonly,
      hostname: p.meta.hostname || DEFAULT_HOSTNAME,
      mounts: specMounts,
    });
    writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
    throwIfAborted(signal);
    if (this.#launch) return this.#launch({ id, bundle, spec, io: p.io, name: p.meta.args[0] ?? "" }, signal);
    const runc = await (this.#runc ??= this.#findRuntime());
    cleanup.defer(() => deleteContainer(runc, id));
    return runContainer({ runc, id, bundle, io: p.io, name: p.meta.args[0] ?? "" }, signal);
  }

  /** The runtime, found once; a failure is not remembered (installing it fixes the next run). */
  #findRuntime(): Promise<Runc> {
    const found = (async () => runcFor(this.#root, this.#runcPath ?? (await this.#runtime?.())))();
    return found.catch((err: unknown) => {
      this.#runc = undefined;
      throw err;
    });
  }

  async #specMounts(bundle: string, p: RunParams, rootReadonly: boolean, cleanup: Cleanup): Promise<SpecMount[]> {
    const stepMounts = prepareExecMounts(p.mounts, join(bundle, "mounts"), cleanup);
    const files = writeNetworkFiles(bundle, p.meta);
    const rootfs = join(bundle, "rootfs");
    return inMountOrder([...stepMounts, ...networkMounts(files, stepMounts, rootfs, rootReadonly)]);
  }
}

function mountRootfs(root: readonly Mount[], rootfs: string, cleanup: Cleanup): void {
  if (root.length === 0) throw new BuildkitError("InvalidArgument", "mounting rootfs: no root mounts given");
  try {
    mountAll(root, rootfs);
  } catch (err) {
    throw withContext("mounting rootfs", err);
  }
  cleanup.defer(() => unmountWithFallback(rootfs));
}
