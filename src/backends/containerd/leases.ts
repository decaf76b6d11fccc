/**
 * Leases keep what this worker makes safe from containerd's garbage collector:
 *
 * - the cache lease (one per state directory, no expiry) holds committed snapshots and stored
 *   blobs: the cache index points at them across processes, and prune removes them explicitly;
 * - the process lease holds active snapshots, views, ingests and containers while an open
 *   worker uses them. It expires on its own (containerd.io/gc.expire), so a killed process
 *   leaves nothing held for long; a worker that opens deletes earlier processes' leases on its
 *   state directory at once.
 *
 * containerd (1.6) cannot change a lease's labels, so a long-lived process (`buildkit serve`)
 * renews its process lease by rotation: every RENEW_MS a new lease becomes current (what new
 * calls are made under); the one before it is retired; the one retired a period earlier, which
 * no call in flight still names, has its remaining resources (a step running for hours, say)
 * added to the current lease and is deleted. A lease thus lives about two periods and expires
 * after PROCESS_LEASE_TTL_MS: a killed process's leftovers are collected within the hour, a
 * live one's never are. A rotation that fails (containerd restarting) is retried sooner.
 */
import { hostname } from "node:os";
import type { ContainerdClient } from "./client.ts";
import { LeasesService } from "./services.ts";

const L = LeasesService.methods;
const EXPIRE_LABEL = "containerd.io/gc.expire";
const OWNER_LABEL = "org.buildkit-ts.owner";
const PID_LABEL = "org.buildkit-ts.pid";
const HOST_LABEL = "org.buildkit-ts.host";
/** A new process lease this often. */
const RENEW_MS = 10 * 60e3;
/** A process lease expires this long after it is made: well past the two periods it is used. */
const PROCESS_LEASE_TTL_MS = 60 * 60e3;
const RETRY_MS = 30e3;

export interface WorkerLeases {
  readonly cache: string;
  /** The current process lease: read it when making something, not once. */
  readonly process: string;
  /** Earlier processes' leases deleted on open. */
  readonly swept: number;
  /** Makes a new current process lease now (the timer's work; tests call it directly). */
  rotate(): Promise<void>;
  /** Stops rotating and deletes this process's leases; containerd collects what they held. */
  release(): Promise<void>;
}

export interface LeaseTimes {
  readonly renewMs?: number;
  readonly ttlMs?: number;
}

/** A lease id from an owner tag: containerd's identifier rules (letters, digits, . _ -). */
function leaseId(owner: string, kind: string): string {
  return `buildkit-ts.${owner}.${kind}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** owner: a short tag of the state directory (leases of other directories are left alone). */
export async function openLeases(client: ContainerdClient, owner: string, times: LeaseTimes = {}): Promise<WorkerLeases> {
  const cache = leaseId(owner, "cache");
  const listed = await client.unary("listing leases", L.List, { filters: [`labels."${OWNER_LABEL}"==${owner}`] });
  const ids = new Set((listed.leases ?? []).map((l) => l.id ?? ""));
  if (!ids.has(cache)) await client.unary(`creating lease ${cache}`, L.Create, { id: cache, labels: { [OWNER_LABEL]: owner } });
  let swept = 0;
  for (const l of listed.leases ?? []) {
    const labels = l.labels ?? {};
    const pid = Number(labels[PID_LABEL]);
    if (!l.id || l.id === cache || !Number.isInteger(pid)) continue;
    if (labels[HOST_LABEL] === hostname() && alive(pid)) continue;
    await client.unary(`deleting stale lease ${l.id}`, L.Delete, { id: l.id }).catch(() => undefined);
    swept++;
  }
  const rotation = new Rotation(client, owner, times);
  await rotation.rotate();
  return {
    cache,
    get process() {
      return rotation.current;
    },
    swept,
    rotate: () => rotation.rotate(),
    release: () => rotation.release(),
  };
}

class Rotation {
  readonly #client: ContainerdClient;
  readonly #owner: string;
  readonly #renewMs: number;
  readonly #ttlMs: number;
  /** Newest first: [current, retired]. */
  #live: string[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #n = 0;
  #released = false;

  constructor(client: ContainerdClient, owner: string, times: LeaseTimes) {
    this.#client = client;
    this.#owner = owner;
    this.#renewMs = times.renewMs ?? RENEW_MS;
    this.#ttlMs = times.ttlMs ?? PROCESS_LEASE_TTL_MS;
  }

  get current(): string {
    const id = this.#live[0];
    if (id === undefined) throw new Error("reading the process lease: none is open");
    return id;
  }

  async rotate(): Promise<void> {
    clearTimeout(this.#timer);
    try {
      await this.#rotateOnce();
      this.#schedule(this.#renewMs);
    } catch (err) {
      this.#schedule(Math.min(RETRY_MS, this.#renewMs));
      if (this.#live.length === 0) throw err;
    }
  }

  async #rotateOnce(): Promise<void> {
    const id = leaseId(this.#owner, `p${process.pid}-${Date.now().toString(36)}-${this.#n++}`);
    await this.#client.unary(`creating lease ${id}`, L.Create, {
      id,
      labels: {
        [OWNER_LABEL]: this.#owner,
        [PID_LABEL]: String(process.pid),
        [HOST_LABEL]: hostname(),
        [EXPIRE_LABEL]: new Date(Date.now() + this.#ttlMs).toISOString(),
      },
    });
    if (this.#released) {
      await this.#client.unary(`deleting lease ${id}`, L.Delete, { id }).catch(() => undefined);
      return;
    }
    this.#live.unshift(id);
    // [new, retired just now, retired a period ago (or earlier, after failures)]: the oldest
    // are moved into the new one; one stays listed until its move has succeeded.
    for (let old = this.#live[2]; old !== undefined; old = this.#live[2]) {
      await this.#moveAndDelete(old, id);
      this.#live.splice(2, 1);
    }
  }

  async #moveAndDelete(from: string, to: string): Promise<void> {
    const res = await this.#client.unary(`listing resources of lease ${from}`, L.ListResources, { id: from });
    for (const r of res.resources ?? []) {
      await this.#client.unary(`moving ${r.type ?? ""} ${r.id ?? ""} to lease ${to}`, L.AddResource, { id: to, resource: { id: r.id ?? "", type: r.type ?? "" } });
    }
    await this.#client.unary(`deleting lease ${from}`, L.Delete, { id: from }).catch(() => undefined);
  }

  #schedule(ms: number): void {
    if (this.#released) return;
    this.#timer = setTimeout(() => void this.rotate().catch(() => undefined), ms);
    // A daemonless build must not stay up for its lease's sake.
    this.#timer.unref?.();
  }

  async release(): Promise<void> {
    this.#released = true;
    clearTimeout(this.#timer);
    const live = this.#live;
    this.#live = [];
    // sync: containerd collects what the leases held before this returns.
    for (const id of live) await this.#client.unary(`deleting lease ${id}`, L.Delete, { id, sync: true });
  }
}
