// moby.buildkit.v1.Control served by the daemon over its engine.
import { BuildkitError } from "../../core/errors.ts";
import { parseFilters } from "../../core/cache/usage-filter.ts";
import { matchFilters } from "../../core/cache/usage-filter.ts";
import type { Engine } from "../../core/engine/index.ts";
import type { Entitlement } from "../../core/solver/entitlements.ts";
import type { ServiceHandlers } from "../grpc/handlers.ts";
import type { ControlService } from "../grpc/services.ts";
import type { SessionCall } from "../session/tunnel.ts";
import type { BuildRegistry } from "./builds.ts";
import type { ClientSessions } from "./client-sessions.ts";
import { solveBuild } from "./solve.ts";
import { toPbUsage } from "./usage-records.ts";
import type { WorkerInfo } from "./workers.ts";

export interface ControlDeps {
  readonly engine: Engine;
  readonly builds: BuildRegistry;
  readonly sessions: ClientSessions & { handle(call: SessionCall): Promise<void> };
  readonly worker: WorkerInfo;
  readonly version: string;
  readonly grant: (requested: readonly string[]) => ReadonlySet<Entitlement>;
}

export function controlHandlers(deps: ControlDeps): ServiceHandlers<typeof ControlService> {
  const { engine, builds } = deps;
  return {
    async Solve(req, call) {
      const build = builds.start(req.Ref ?? "");
      // The build stops when its client goes away, and only then (or on daemon shutdown).
      const onGone = () => build.controller.abort(new BuildkitError("Canceled", "build canceled: the client disconnected"));
      call.signal.addEventListener("abort", onGone, { once: true });
      try {
        return { ExporterResponse: await solveBuild(req, build, { engine, sessions: deps.sessions, grant: deps.grant, worker: deps.worker }) };
      } finally {
        call.signal.removeEventListener("abort", onGone);
        await builds.finish(build);
      }
    },

    async Status(req, call) {
      const build = await builds.get(req.Ref ?? "", call.signal);
      if (!build) throw new BuildkitError("NotFound", `status: no build ${req.Ref}`);
      for await (const batch of build.progress.subscribe(call.signal)) await call.send(batch);
    },

    Session: (call) => deps.sessions.handle(call),

    async ListWorkers() {
      return { record: [deps.worker.record()] };
    },

    async Info() {
      return { buildkitVersion: { package: "github.com/buildkit-ts/buildkit-ts", version: deps.version, revision: "" } };
    },

    async DiskUsage(req) {
      const filters = parseFilters(req.filter ?? []);
      const now = Date.now();
      const records = (await engine.usage()).filter((r) => matchFilters(r, filters, now));
      return { record: records.map(toPbUsage) };
    },

    async Prune(req, call) {
      const policy = {
        all: req.all ?? false,
        // Durations arrive in nanoseconds (Go's time.Duration).
        keepDuration: req.keepDuration ? req.keepDuration / 1e6 : undefined,
        keepStorage: req.keepBytes || undefined,
        filters: parseFilters(req.filter ?? []),
      };
      const sends: Promise<void>[] = [];
      await engine.prune(policy, { onRemoved: (r) => void sends.push(call.send(toPbUsage(r))), signal: call.signal });
      await Promise.all(sends);
    },
  };
}
