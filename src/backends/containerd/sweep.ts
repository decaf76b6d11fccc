// After a killed process: its containers (and their tasks) are deleted. Its active snapshots and
// ingests go with its lease (leases.ts); its bundle mounts with the standalone executor's sweep.
import type { ContainerdClient } from "./client.ts";
import { ContainersService, TasksService } from "./services.ts";

const SIGKILL = 9;

export async function sweepContainers(client: ContainerdClient, label: string, owner: string): Promise<number> {
  const res = await client.unary("listing containers", ContainersService.methods.List, { filters: [`labels."${label}"==${owner}`] });
  let n = 0;
  for (const c of res.containers ?? []) {
    const id = c.id ?? "";
    if (!id) continue;
    await client.unary(`killing task ${id}`, TasksService.methods.Kill, { container_id: id, signal: SIGKILL, all: true }).catch(() => undefined);
    await client.unary(`waiting for task ${id}`, TasksService.methods.Wait, { container_id: id }).catch(() => undefined);
    await client.unary(`deleting task ${id}`, TasksService.methods.Delete, { container_id: id }).catch(() => undefined);
    await client.unary(`deleting container ${id}`, ContainersService.methods.Delete, { id });
    n++;
  }
  return n;
}
