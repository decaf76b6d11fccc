/**
 * Leases keep what this worker makes safe from containerd's garbage collector:
 *
 * - the cache lease (one per state directory, no expiry) holds committed snapshots and stored
 *   blobs: the cache index points at them across processes, and prune removes them explicitly;
 * - a process lease (one per open worker) holds active snapshots, views and ingests. It expires
 *   on its own (containerd.io/gc.expire), so a killed process leaves nothing held for long; a
 *   worker that opens deletes the process leases of earlier processes on this state directory.
 */
import { hostname } from "node:os";
import type { ContainerdClient } from "./client.ts";
import { LeasesService } from "./services.ts";

const EXPIRE_LABEL = "containerd.io/gc.expire";
const OWNER_LABEL = "org.buildkit-ts.owner";
const PID_LABEL = "org.buildkit-ts.pid";
const HOST_LABEL = "org.buildkit-ts.host";
/** Long enough for any build; renewed by opening a new worker. */
const PROCESS_LEASE_TTL_MS = 24 * 3600e3;

export interface WorkerLeases {
  readonly cache: string;
  readonly process: string;
  /** Earlier processes' leases deleted on open. */
  readonly swept: number;
  release(): Promise<void>;
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
export async function openLeases(client: ContainerdClient, owner: string): Promise<WorkerLeases> {
  const cache = leaseId(owner, "cache");
  const listed = await client.unary("listing leases", LeasesService.methods.List, { filters: [`labels."${OWNER_LABEL}"==${owner}`] });
  const ids = new Set((listed.leases ?? []).map((l) => l.id ?? ""));
  if (!ids.has(cache)) await client.unary(`creating lease ${cache}`, LeasesService.methods.Create, { id: cache, labels: { [OWNER_LABEL]: owner } });
  let swept = 0;
  for (const l of listed.leases ?? []) {
    const labels = l.labels ?? {};
    const pid = Number(labels[PID_LABEL]);
    if (!l.id || l.id === cache || !Number.isInteger(pid)) continue;
    if (labels[HOST_LABEL] === hostname() && alive(pid)) continue;
    await client.unary(`deleting stale lease ${l.id}`, LeasesService.methods.Delete, { id: l.id }).catch(() => undefined);
    swept++;
  }
  const processLease = leaseId(owner, `p${process.pid}-${Date.now().toString(36)}`);
  await client.unary(`creating lease ${processLease}`, LeasesService.methods.Create, {
    id: processLease,
    labels: {
      [OWNER_LABEL]: owner,
      [PID_LABEL]: String(process.pid),
      [HOST_LABEL]: hostname(),
      [EXPIRE_LABEL]: new Date(Date.now() + PROCESS_LEASE_TTL_MS).toISOString(),
    },
  });
  return {
    cache,
    process: processLease,
    swept,
    release: async () => {
      // sync: containerd collects what the lease held before this returns.
      await client.unary(`deleting lease ${processLease}`, LeasesService.methods.Delete, { id: processLease, sync: true });
    },
  };
}
