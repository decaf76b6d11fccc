import type { UsageRecord } from "../../core/cache/usage.ts";
import type { Digest } from "../../core/digest.ts";
import type { apiPb } from "../pb/index.ts";
import { millis, timestamp } from "./status.ts";

type PbUsageRecord = apiPb.moby.buildkit.v1.UsageRecord.$Properties;

/** A cache record as Control.DiskUsage and Prune send it. */
export function toPbUsage(r: UsageRecord): PbUsageRecord {
  return {
    ID: r.id,
    Mutable: false,
    InUse: r.inUse,
    Size: r.size,
    ...(r.parent ? { Parent: r.parent, Parents: [r.parent] } : {}),
    CreatedAt: timestamp(r.created),
    ...(r.lastUsed === undefined ? {} : { LastUsedAt: timestamp(r.lastUsed) }),
    UsageCount: r.usageCount,
    Description: r.description,
    RecordType: r.type,
    Shared: r.shared,
  };
}

/** A record received from a daemon, as our du/prune displays take it. */
export function fromPbUsage(r: PbUsageRecord): UsageRecord {
  const lastUsed = millis(r.LastUsedAt);
  return {
    id: r.ID ?? "",
    type: (r.RecordType || "regular") as UsageRecord["type"],
    size: r.Size ?? 0,
    created: millis(r.CreatedAt) ?? 0,
    lastUsed,
    usageCount: r.UsageCount ?? 0,
    inUse: r.InUse ?? false,
    shared: r.Shared ?? false,
    description: r.Description ?? "",
    parent: r.Parents?.[0] || r.Parent || undefined,
    inputs: [] as Digest[],
  };
}
