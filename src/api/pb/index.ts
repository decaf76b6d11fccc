// The Control/LLBBridge (apiPb) and session (sessionPb) protobuf types. Import them from here,
// not from the generated files: int64 fields then decode as plain numbers (core's
// int64-as-number.ts has to run before the generated code computes its defaults).
import "../../core/pb/int64-as-number.ts";

/** moby.buildkit.v1 (Control), .types, .frontend (LLBBridge), .apicaps; google.rpc/protobuf; fsutil.types.Stat. */
export * as apiPb from "./api.js";
/** moby.filesync.v1 (FileSync, FileSend, Auth), moby.buildkit.secrets.v1, moby.sshforward.v1, fsutil.types, grpc.health.v1. */
export * as sessionPb from "./session.js";
