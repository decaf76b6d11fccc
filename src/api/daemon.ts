// The daemon: BuildKit's Control and LLBBridge services over one long-lived engine.
import type { Engine } from "../core/engine/index.ts";
import { grantEntitlements, type Entitlement } from "../core/solver/entitlements.ts";
import { BuildkitError } from "../core/errors.ts";
import { BuildRegistry } from "./control/builds.ts";
import type { ClientSessions } from "./control/client-sessions.ts";
import { controlHandlers } from "./control/control.ts";
import { describeWorker } from "./control/workers.ts";
import { contentHandlers } from "./control/history/content-service.ts";
import { BuildHistory, DEFAULT_HISTORY, type HistoryConfig } from "./control/history/history.ts";
import { llbBridgeHandlers } from "./gateway/bridge.ts";
import { createServer, type GrpcServer } from "./grpc/server.ts";
import { ContentService } from "../backends/containerd/services.ts";
import { ControlService, LLBBridgeService } from "./grpc/services.ts";
import type { SessionCall } from "./session/tunnel.ts";

export interface DaemonOptions {
  readonly engine: Engine;
  readonly sessions: ClientSessions & { handle(call: SessionCall): Promise<void>; close(): Promise<void> };
  readonly version: string;
  /** Entitlements builds may be granted (`--allow-insecure-entitlement`). */
  readonly allowedEntitlements: readonly Entitlement[];
  readonly gcKeepStorage?: number;
  /** Largest request accepted, in bytes. */
  readonly maxRequestSize?: number;
  /** How much build history to keep (BuildKit's `[history]`). */
  readonly history?: Partial<HistoryConfig>;
}

export interface Daemon {
  readonly server: GrpcServer;
  readonly builds: BuildRegistry;
  /** Cancels running builds (containers killed, mounts released), stops serving, closes the engine. */
  shutdown(reason: string): Promise<void>;
}

export function createDaemon(opts: DaemonOptions): Daemon {
  const builds = new BuildRegistry();
  const worker = describeWorker(opts.engine, { version: opts.version, gcKeepStorage: opts.gcKeepStorage });
  const grant = (requested: readonly string[]) => grantEntitlements(requested, opts.allowedEntitlements);
  const history = new BuildHistory(opts.engine.worker.root, { ...DEFAULT_HISTORY, ...opts.history });
  const server = createServer({ maxReceiveMessageSize: opts.maxRequestSize })
    .addService(ControlService, controlHandlers({ engine: opts.engine, builds, sessions: opts.sessions, worker, version: opts.version, grant, history }))
    .addService(LLBBridgeService, llbBridgeHandlers({ engine: opts.engine, builds, worker }))
    .addService(ContentService, contentHandlers({ history, content: opts.engine.worker.content }));
  let stopping: Promise<void> | undefined;
  return {
    server,
    builds,
    shutdown(reason) {
      stopping ??= (async () => {
        builds.cancelAll(new BuildkitError("Canceled", `build canceled: ${reason}`));
        await server.close();
        await opts.sessions.close();
        history.close();
        await opts.engine.close();
        builds.dispose();
      })();
      return stopping;
    },
  };
}
