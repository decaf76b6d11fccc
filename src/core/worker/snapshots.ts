import type { Mount } from "./mount.ts";
import type { Worker } from "./worker.ts";

/** A writable snapshot being filled by an op, not yet a result. */
export interface Mutable {
  readonly key: string;
  readonly mounts: readonly Mount[];
}

export function newId(prefix: string): string {
  // The Web Crypto global, not node:crypto: loading that costs ~5 ms of start-up (streams, util).
  return `${prefix}-${crypto.randomUUID()}`;
}

/** A new writable snapshot on top of a committed one (or empty). */
export async function prepareMutable(worker: Worker, parent?: string): Promise<Mutable> {
  const key = newId("active");
  return { key, mounts: await worker.snapshotter.prepare(key, parent) };
}

/** Turns a writable snapshot into an immutable result; returns the result's name. */
export async function commitMutable(worker: Worker, m: Mutable, name: string = newId("result")): Promise<string> {
  await worker.snapshotter.commit(name, m.key);
  return name;
}

export async function discard(worker: Worker, keys: Iterable<string>): Promise<void> {
  for (const key of keys) await worker.snapshotter.remove(key).catch(() => undefined);
}

/** How in-process code reaches a snapshot: mounted, or directly where hard links are wanted (Worker.withDirect). */
export interface AccessOptions {
  readonly direct?: boolean;
}

export interface BuildOptions extends AccessOptions {
  /** The committed snapshot's name (default: a new "result-…" id). */
  readonly name?: string;
}

/** withMounted, or withDirect where asked for and the worker has it. */
export function access(worker: Worker, opts: AccessOptions): Worker["withMounted"] {
  return opts.direct && worker.withDirect ? worker.withDirect.bind(worker) : worker.withMounted.bind(worker);
}

/** Runs fn with a read-only view of a committed snapshot (an empty directory for none). */
export async function withView<T>(worker: Worker, name: string | undefined, fn: (dir: string) => Promise<T>, opts: AccessOptions = {}): Promise<T> {
  const key = newId("view");
  const mounts = await worker.snapshotter.view(key, name);
  try {
    return await access(worker, opts)(mounts, fn);
  } finally {
    await worker.snapshotter.remove(key);
  }
}

/** Fills a new snapshot (on top of parent, or empty) through fn and commits it. */
export async function buildSnapshot(worker: Worker, parent: string | undefined, fn: (dir: string) => Promise<void>, opts: BuildOptions = {}): Promise<string> {
  const m = await prepareMutable(worker, parent);
  try {
    await access(worker, opts)(m.mounts, fn);
    return await commitMutable(worker, m, opts.name);
  } catch (err) {
    await discard(worker, [m.key]);
    throw err;
  }
}
