import { hostname } from "node:os";
import type { Engine } from "../../core/engine/index.ts";
import type { Platform } from "../../core/llb/platform.ts";
import type { apiPb } from "../pb/index.ts";

type WorkerRecord = apiPb.moby.buildkit.v1.types.WorkerRecord.$Properties;

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
      Labels: { ...worker.labels, "org.mobyproject.buildkit.worker.hostname": hostname() },
      platforms: worker.platforms.map((p) => ({ OS: p.os, Architecture: p.architecture, ...(p.variant ? { Variant: p.variant } : {}) })),
      GCPolicy: opts.gcKeepStorage === 0 ? [] : [{ all: true, keepBytes: opts.gcKeepStorage ?? 0 }],
      BuildkitVersion: { package: "github.com/buildkit-ts/buildkit-ts", version: opts.version, revision: "" },
    }),
  };
}
