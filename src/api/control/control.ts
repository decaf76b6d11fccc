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
import { listedExporters, solveBuild } from "./solve.ts";
import { toPbUsage } from "./usage-records.ts";
import type { BuildHistory } from "./history/history.ts";
import type { WorkerInfo } from "./workers.ts";

export interface ControlDeps {
  readonly engine: Engine;
  readonly builds: BuildRegistry;
  readonly sessions: ClientSessions & { handle(call: SessionCall): Promise<void> };
  readonly worker: WorkerInfo;
  readonly version: string;
  readonly grant: (requested: readonly string[]) => ReadonlySet<Entitlement>;
  readonly history: BuildHistory;
}

export function controlHandlers(deps: ControlDeps): ServiceHandlers<typeof ControlService> {
  const { engine, builds } = deps;
  return {
    async Solve(req, call) {
      const build = builds.start(req.Ref ?? "");
      const recording = deps.history.begin({ ref: build.ref, frontend: req.Frontend ?? "", frontendAttrs: req.FrontendAttrs ?? {}, exporters: listedExporters(req).map((e) => ({ Type: e.type, Attrs: e.attrs })) });
      build.progress.tap((batch) => recording.status(batch));
      // The build stops when its client goes away, and only then (or on daemon shutdown).
      const onGone = () => build.controller.abort(new BuildkitError("Canceled", "build canceled: the client disconnected"));
      call.signal.addEventListener("abort", onGone, { once: true });
      let outcome: { exporterResponse?: Record<string, string>; error?: unknown } = {};
      try {
        const exporterResponse = await solveBuild(req, build, { engine, sessions: deps.sessions, grant: deps.grant, worker: deps.worker }, recording.provenance);
        outcome = { exporterResponse };
        return { ExporterResponse: exporterResponse };
      } catch (error) {
        outcome = { error };
        throw error;
      } finally {
        call.signal.removeEventListener("abort", onGone);
        await builds.finish(build);
        recording.finish(outcome);
      }
    },

    async Status(req, call) {
      const ref = req.Ref ?? "";
      // A build that finished a while ago replays from its history record (buildctl debug logs).
      const build = await builds.get(ref, call.signal, deps.history.has(ref) ? 0 : undefined);
      if (!build) {
        const replay = deps.history.replay(ref);
        if (!replay) throw new BuildkitError("NotFound", `status: no build ${req.Ref}`);
        for (const batch of replay) await call.send(batch);
        return;
      }
      for await (const batch of build.progress.subscribe(call.signal)) await call.send(batch);
    },

    ListenBuildHistory: (req, call) => deps.history.listen(req, (e) => call.send(e), call.signal),

    async UpdateBuildHistory(req) {
      if (req.Delete) deps.history.delete(req.Ref ?? "");
      else deps.history.setPinned(req.Ref ?? "", req.Pinned ?? false);
      return {};
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

