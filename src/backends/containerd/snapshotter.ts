/**
 * The Snapshotter contract over containerd's snapshot service (one snapshotter plugin,
 * overlayfs by default). Active snapshots and views are made under the process lease, committed
 * ones under the cache lease (see leases.ts). Every snapshot carries the owner label, so list()
 * shows this worker's snapshots, not those other clients of the namespace made.
 */
import { BuildkitError } from "../../core/errors.ts";
import type { Mount } from "../../core/worker/mount.ts";
import type { SnapshotInfo, Snapshotter } from "../../core/worker/snapshotter.ts";
import { isNotFound, type ContainerdClient } from "./client.ts";
import { containerdPb } from "./pb/index.ts";
import { SnapshotsService } from "./services.ts";

const S = SnapshotsService.methods;
const Kind = containerdPb.containerd.services.snapshots.v1.Kind;
export const OWNER_LABEL = "org.buildkit-ts.owner";

export interface ContainerdSnapshotterOptions {
  readonly client: ContainerdClient;
  /** The snapshotter plugin: "overlayfs", "native", … */
  readonly snapshotter: string;
  readonly owner: string;
  readonly leases: { readonly cache: string; readonly process: string };
}

type PbMount = { type?: string | null; source?: string | null; options?: string[] | null };
type PbInfo = { name?: string | null; parent?: string | null; kind?: number | null; created_at?: { seconds?: number | null; nanos?: number | null } | null };

function toMounts(mounts: readonly PbMount[] | null | undefined): Mount[] {
  return (mounts ?? []).map((m) => ({ type: m.type ?? "", source: m.source ?? "", options: [...(m.options ?? [])] }));
}

function toInfo(info: PbInfo): SnapshotInfo {
  const kind = info.kind === Kind.COMMITTED ? "committed" : info.kind === Kind.VIEW ? "view" : "active";
  const created = (info.created_at?.seconds ?? 0) * 1000 + Math.floor((info.created_at?.nanos ?? 0) / 1e6);
  return { name: info.name ?? "", kind, ...(info.parent ? { parent: info.parent } : {}), created };
}

export function createContainerdSnapshotter(opts: ContainerdSnapshotterOptions): Snapshotter {
  const { client, snapshotter, leases } = opts;
  const labels = { [OWNER_LABEL]: opts.owner };
  /** Read per call: the process lease is renewed by rotation (leases.ts). */
  const active = () => ({ lease: leases.process });

  /** containerd says "invalid argument" where our contract says the parent is in the wrong state. */
  async function checkParent(parent: string | undefined): Promise<void> {
    if (!parent) return;
    const info = await stat(parent);
    if (info === undefined) throw new BuildkitError("NotFound", `preparing on ${JSON.stringify(parent)}: parent does not exist`);
    if (info.kind !== "committed") throw new BuildkitError("FailedPrecondition", `preparing on ${JSON.stringify(parent)}: parent is not committed`);
  }

  async function stat(key: string): Promise<SnapshotInfo | undefined> {
    try {
      const res = await client.unary(`reading snapshot ${JSON.stringify(key)}`, S.Stat, { snapshotter, key });
      return res.info ? toInfo(res.info) : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  return {
    async prepare(key, parent) {
      await checkParent(parent);
      const res = await client.unary(`preparing snapshot ${JSON.stringify(key)}`, S.Prepare, { snapshotter, key, parent: parent ?? "", labels }, active());
      return toMounts(res.mounts);
    },
    async view(key, parent) {
      await checkParent(parent);
      const res = await client.unary(`making view ${JSON.stringify(key)}`, S.View, { snapshotter, key, parent: parent ?? "", labels }, active());
      return toMounts(res.mounts);
    },
    async mounts(key) {
      const res = await client.unary(`reading mounts of ${JSON.stringify(key)}`, S.Mounts, { snapshotter, key });
      return toMounts(res.mounts);
    },
    async commit(name, key) {
      const info = await stat(key);
      if (info === undefined) throw new BuildkitError("NotFound", `committing ${JSON.stringify(key)}: no such snapshot`);
      if (info.kind !== "active") throw new BuildkitError("FailedPrecondition", `committing ${JSON.stringify(key)}: not an active snapshot`);
      await client.unary(`committing snapshot ${JSON.stringify(key)} as ${JSON.stringify(name)}`, S.Commit, { snapshotter, name, key, labels }, { lease: leases.cache });
    },
    async remove(key) {
      await client.unary(`removing snapshot ${JSON.stringify(key)}`, S.Remove, { snapshotter, key });
    },
    stat,
    async usage(key) {
      const res = await client.unary(`measuring snapshot ${JSON.stringify(key)}`, S.Usage, { snapshotter, key });
      return { size: res.size ?? 0, inodes: res.inodes ?? 0 };
    },
    async list() {
      const out: SnapshotInfo[] = [];
      try {
        for await (const res of client.serverStream(S.List, { snapshotter, filters: [`labels."${OWNER_LABEL}"==${opts.owner}`] })) {
          for (const info of res.info ?? []) out.push(toInfo(info));
        }
      } catch (err) {
        throw client.error("listing snapshots", err);
      }
      return out;
    },
  };
}
