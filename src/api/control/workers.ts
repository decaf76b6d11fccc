import { hostname } from "node:os";
import { configuredGCSpace, defaultGCRules, diskStat, type GCRule } from "../../core/cache/gc-space.ts";
import type { Engine } from "../../core/engine/index.ts";
import type { Platform } from "../../core/llb/platform.ts";
import { WORKER_LABEL } from "../../core/worker/labels.ts";
import type { apiPb } from "../pb/index.ts";

type WorkerRecord = apiPb.moby.buildkit.v1.types.WorkerRecord.$Properties;
type GCPolicyRecord = apiPb.moby.buildkit.v1.types.GCPolicy.$Properties;

/** The daemon's worker as ListWorkers and the gateway's Ping describe it. */
export interface WorkerInfo {
  readonly platform: Platform;
  record(): WorkerRecord;
}

export function describeWorker(engine: Engine, opts: { version: string; gcKeepStorage?: number }): WorkerInfo {
  const { worker } = engine;
  const platform = worker.platforms[0] ?? { os: "linux", architecture: "amd64" };
  return {
    platform,
    record: () => ({
      ID: worker.id,
      Labels: { ...worker.labels, [WORKER_LABEL.hostname]: hostname() },
      platforms: worker.platforms.map((p) => ({ OS: p.os, Architecture: p.architecture, ...(p.variant ? { Variant: p.variant } : {}) })),
      // The rules GC applies, with today's disk figures (the defaults are shares of the disk).
      GCPolicy: opts.gcKeepStorage === 0 ? [] : defaultGCRules(configuredGCSpace(opts.gcKeepStorage, diskStat(worker.root))).map(gcPolicyRecord),
      BuildkitVersion: { package: "github.com/buildkit-ts/buildkit-ts", version: opts.version, revision: "" },
    }),
  };
}

/** A rule as buildkitd sends it: durations in nanoseconds, field 3 its reserved space (v0.11's keepBytes). */
function gcPolicyRecord(rule: GCRule): GCPolicyRecord {
  return {
    all: rule.all,
    filters: [...rule.filters],
    keepDuration: rule.keepDuration * 1e6,
    keepBytes: rule.space.reservedSpace,
    maxUsedSpace: rule.space.maxUsedSpace,
    minFreeSpace: rule.space.minFreeSpace,
  };
}
