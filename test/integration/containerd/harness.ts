// One throwaway containerd per test file, and workers on it each with a fresh state directory.
// After each worker closes, the harness checks that containerd holds none of its containers or
// tasks and no snapshot outside a lease, then deletes its leases (containerd then collects
// everything it made) and checks that nothing is left.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContainerdClient } from "../../../src/backends/containerd/client.ts";
import { createContainerdWorker, type ContainerdWorker } from "../../../src/backends/containerd/index.ts";
import { LeasesService, SnapshotsService } from "../../../src/backends/containerd/services.ts";
import { startContainerd, type TestContainerd } from "../../fixtures/containerd.ts";
import { integrationSkipReason } from "../../fixtures/prereqs.ts";

export const NAMESPACE = "bk-test";

export function containerdSkipReason(): string | undefined {
  return integrationSkipReason({ runc: true, busybox: true, tools: ["containerd", "ctr"] });
}

export function shouldRun(suite: string): boolean {
  const reason = containerdSkipReason();
  if (reason === undefined) return true;
  if (process.env.CI === "true") throw new Error(`${suite} cannot run under CI=true: ${reason}`);
  console.log(`skipping ${suite}: ${reason}`);
  return false;
}

export class ContainerdHarness {
  readonly dir = mkdtempSync(join(tmpdir(), "bk-cd-"));
  #cd: TestContainerd | undefined;

  async start(): Promise<void> {
    this.#cd = await startContainerd();
  }

  get containerd(): TestContainerd {
    if (!this.#cd) throw new Error("containerd not started");
    return this.#cd;
  }

  async stop(): Promise<void> {
    await this.#cd?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A worker on a fresh (or the given) state directory. */
  openWorker(root = mkdtempSync(join(this.dir, "root-"))): Promise<ContainerdWorker> {
    return createContainerdWorker({ root, address: this.containerd.address, namespace: NAMESPACE });
  }

  /** What containerd still holds that it should not: containers, tasks, unleased snapshots. */
  async leftovers(): Promise<string[]> {
    const problems: string[] = [];
    const containers = this.containerd.ctr(["containers", "ls", "-q"]).trim();
    if (containers) problems.push(`containers: ${containers}`);
    const tasks = this.containerd.ctr(["tasks", "ls", "-q"]).trim();
    if (tasks) problems.push(`tasks: ${tasks}`);
    const client = new ContainerdClient(this.containerd.address, NAMESPACE);
    try {
      const leased = new Set<string>();
      const leases = await client.unary("listing leases", LeasesService.methods.List, {});
      for (const l of leases.leases ?? []) {
        const res = await client.unary("listing lease resources", LeasesService.methods.ListResources, { id: l.id ?? "" });
        for (const r of res.resources ?? []) if (r.type?.startsWith("snapshots/")) leased.add(r.id ?? "");
      }
      const parents = new Map<string, string>();
      for await (const res of client.serverStream(SnapshotsService.methods.List, { snapshotter: "overlayfs" })) {
        for (const info of res.info ?? []) parents.set(info.name ?? "", info.parent ?? "");
      }
      // A snapshot is held when it, or a snapshot above it, is in a lease.
      const held = new Set<string>();
      for (const name of leased) for (let n: string | undefined = name; n && !held.has(n); n = parents.get(n)) held.add(n);
      const unleased = [...parents.keys()].filter((n) => !held.has(n));
      if (unleased.length) problems.push(`unleased snapshots: ${unleased.join(", ")}`);
    } finally {
      await client.close();
    }
    return problems;
  }

  /** Deletes every lease (containerd collects synchronously) and reports snapshots still there. */
  async dropLeases(): Promise<string[]> {
    const client = new ContainerdClient(this.containerd.address, NAMESPACE);
    try {
      const leases = await client.unary("listing leases", LeasesService.methods.List, {});
      for (const l of leases.leases ?? []) await client.unary("deleting lease", LeasesService.methods.Delete, { id: l.id ?? "", sync: true });
      const left: string[] = [];
      for await (const res of client.serverStream(SnapshotsService.methods.List, { snapshotter: "overlayfs" })) for (const info of res.info ?? []) left.push(info.name ?? "");
      return left;
    } finally {
      await client.close();
    }
  }
}
