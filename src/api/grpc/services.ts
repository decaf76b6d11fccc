// Every gRPC service buildkit-ts serves or calls, described once.
import { apiPb, sessionPb } from "../pb/index.ts";
import { defineService } from "./method.ts";

const v1 = apiPb.moby.buildkit.v1;
const fe = apiPb.moby.buildkit.v1.frontend;

/** moby.buildkit.v1.Control: the daemon's API. */
export const ControlService = defineService("moby.buildkit.v1.Control", {
  DiskUsage: ["unary", v1.DiskUsageRequest, v1.DiskUsageResponse],
  Prune: ["serverStream", v1.PruneRequest, v1.UsageRecord],
  Solve: ["unary", v1.SolveRequest, v1.SolveResponse],
  Status: ["serverStream", v1.StatusRequest, v1.StatusResponse],
  Session: ["bidi", v1.BytesMessage, v1.BytesMessage],
  ListWorkers: ["unary", v1.ListWorkersRequest, v1.ListWorkersResponse],
  Info: ["unary", v1.InfoRequest, v1.InfoResponse],
  ListenBuildHistory: ["serverStream", v1.BuildHistoryRequest, v1.BuildHistoryEvent],
  UpdateBuildHistory: ["unary", v1.UpdateBuildHistoryRequest, v1.UpdateBuildHistoryResponse],
});

/** moby.buildkit.v1.frontend.LLBBridge: the frontend gateway. */
export const LLBBridgeService = defineService("moby.buildkit.v1.frontend.LLBBridge", {
  ResolveImageConfig: ["unary", fe.ResolveImageConfigRequest, fe.ResolveImageConfigResponse],
  Solve: ["unary", fe.SolveRequest, fe.SolveResponse],
  ReadFile: ["unary", fe.ReadFileRequest, fe.ReadFileResponse],
  ReadDir: ["unary", fe.ReadDirRequest, fe.ReadDirResponse],
  StatFile: ["unary", fe.StatFileRequest, fe.StatFileResponse],
  Evaluate: ["unary", fe.EvaluateRequest, fe.EvaluateResponse],
  Ping: ["unary", fe.PingRequest, fe.PongResponse],
  Return: ["unary", fe.ReturnRequest, fe.ReturnResponse],
  Inputs: ["unary", fe.InputsRequest, fe.InputsResponse],
  NewContainer: ["unary", fe.NewContainerRequest, fe.NewContainerResponse],
  ReleaseContainer: ["unary", fe.ReleaseContainerRequest, fe.ReleaseContainerResponse],
  ExecProcess: ["bidi", fe.ExecMessage, fe.ExecMessage],
  Warn: ["unary", fe.WarnRequest, fe.WarnResponse],
});

const health = sessionPb.grpc.health.v1;
/** grpc.health.v1.Health: the daemon checks a session with it. */
export const HealthService = defineService("grpc.health.v1.Health", {
  Check: ["unary", health.HealthCheckRequest, health.HealthCheckResponse],
  Watch: ["serverStream", health.HealthCheckRequest, health.HealthCheckResponse],
});

const filesync = sessionPb.moby.filesync.v1;
const fsTypes = sessionPb.fsutil.types;
/** moby.filesync.v1.FileSync: the client's local directories (served by the client). */
export const FileSyncService = defineService("moby.filesync.v1.FileSync", {
  DiffCopy: ["bidi", fsTypes.Packet, fsTypes.Packet],
  TarStream: ["bidi", fsTypes.Packet, fsTypes.Packet],
});

/** moby.filesync.v1.FileSend: exported files sent to the client. */
export const FileSendService = defineService("moby.filesync.v1.FileSend", {
  DiffCopy: ["bidi", filesync.BytesMessage, filesync.BytesMessage],
});

/** moby.filesync.v1.Auth: registry credentials the client holds. */
export const AuthService = defineService("moby.filesync.v1.Auth", {
  Credentials: ["unary", filesync.CredentialsRequest, filesync.CredentialsResponse],
  FetchToken: ["unary", filesync.FetchTokenRequest, filesync.FetchTokenResponse],
  GetTokenAuthority: ["unary", filesync.GetTokenAuthorityRequest, filesync.GetTokenAuthorityResponse],
  VerifyTokenAuthority: ["unary", filesync.VerifyTokenAuthorityRequest, filesync.VerifyTokenAuthorityResponse],
});

const secrets = sessionPb.moby.buildkit.secrets.v1;
/** moby.buildkit.secrets.v1.Secrets: secrets the client holds. */
export const SecretsService = defineService("moby.buildkit.secrets.v1.Secrets", {
  GetSecret: ["unary", secrets.GetSecretRequest, secrets.GetSecretResponse],
});

const ssh = sessionPb.moby.sshforward.v1;
/** moby.sshforward.v1.SSH: the client's SSH agent. */
export const SSHService = defineService("moby.sshforward.v1.SSH", {
  CheckAgent: ["unary", ssh.CheckAgentRequest, ssh.CheckAgentResponse],
  ForwardAgent: ["bidi", ssh.BytesMessage, ssh.BytesMessage],
});
