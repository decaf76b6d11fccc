// The daemon's build cache, as du and prune show it: Control.DiskUsage and Control.Prune,
// records turned into the shape our displays print.
import type { UsageRecord } from "../../core/cache/usage.ts";
import { fromPbUsage as usageFromPb } from "../control/usage-records.ts";
import type { Channel } from "../grpc/client.ts";
import { ControlService } from "../grpc/services.ts";
import { GrpcError, toBuildkitError } from "../grpc/status.ts";

export interface RemotePrunePolicy {
  readonly all: boolean;
  /** Milliseconds. */
  readonly keepDuration?: number | undefined;
  /** Bytes. */
  readonly keepStorage?: number | undefined;
  /** BuildKit filter strings (type==regular, id~=…), as given. */
  readonly filters: readonly string[];
}

export async function remoteUsage(channel: Channel, filters: readonly string[]): Promise<UsageRecord[]> {
  try {
    const res = await channel.unary(ControlService.methods.DiskUsage, { filter: [...filters] });
    return (res.record ?? []).map(usageFromPb);
  } catch (err) {
    throw err instanceof GrpcError ? toBuildkitError(err) : err;
  }
}

/** Prunes on the daemon, reporting each removed record; resolves with the bytes reclaimed. */
export async function remotePrune(channel: Channel, policy: RemotePrunePolicy, onRemoved: (r: UsageRecord) => void): Promise<number> {
  let reclaimed = 0;
  try {
    const request = {
      filter: [...policy.filters],
      all: policy.all,
      ...(policy.keepDuration ? { keepDuration: policy.keepDuration * 1e6 } : {}), // Go's time.Duration: nanoseconds
      ...(policy.keepStorage ? { keepBytes: policy.keepStorage } : {}),
    };
    for await (const pb of channel.serverStream(ControlService.methods.Prune, request)) {
      const r = usageFromPb(pb);
      reclaimed += r.size;
      onRemoved(r);
    }
  } catch (err) {
    throw err instanceof GrpcError ? toBuildkitError(err) : err;
  }
  return reclaimed;
}
