// The services a remote build's client serves to the daemon inside its session: health (the
// daemon pings it), its --local directories, --secret values, --ssh agents, the receiving
// end of the export, and its local cache directories as content stores. Only what the build has is registered: the session headers announce it.
import { createServer, type GrpcServer } from "../grpc/server.ts";
import { HealthService } from "../grpc/services.ts";
import { fileSyncHandler, type FileSyncOptions, type SyncedDir } from "../session/filesync/provider.ts";
import { fileSendHandler, type FileSendTarget } from "../session/filesync/target.ts";
import { addSessionHandlers } from "../session/grpc-binding.ts";
import { secretsHandler, type SecretReader } from "../session/secrets.ts";
import type { SessionHandler } from "../session/session.ts";
import { sshHandlers } from "../session/ssh.ts";

/** grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING */
const SERVING = 1;

export interface SessionInputs {
  readonly dirs: ReadonlyMap<string, SyncedDir>;
  readonly secrets: ReadonlyMap<string, SecretReader>;
  /** ssh agent sockets by id. */
  readonly ssh: ReadonlyMap<string, string>;
  readonly output?: FileSendTarget;
  /** Content stores by id ("local:"+DIR for a local cache directory). */
  /** The content service over the client's local cache directories (session/content), when there are any. */
  readonly contentHandlers?: readonly SessionHandler[];
  readonly onSyncProgress?: FileSyncOptions["onProgress"];
}

export function createSessionServer(inputs: SessionInputs): GrpcServer {
  const server = createServer({ maxReceiveMessageSize: 64 * 1024 * 1024 });
  server.addService(HealthService, { Check: async () => ({ status: SERVING }) });
  const handlers: SessionHandler[] = [];
  if (inputs.dirs.size > 0) handlers.push(fileSyncHandler(inputs.dirs, inputs.onSyncProgress ? { onProgress: inputs.onSyncProgress } : {}));
  if (inputs.secrets.size > 0) handlers.push(secretsHandler(inputs.secrets));
  if (inputs.ssh.size > 0) handlers.push(...sshHandlers(inputs.ssh));
  if (inputs.output) handlers.push(fileSendHandler(inputs.output));
  if (inputs.contentHandlers) handlers.push(...inputs.contentHandlers);
  addSessionHandlers(server, handlers);
  return server;
}
