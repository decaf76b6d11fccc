/**
 * The session methods the daemon calls on a client, with their codecs (from src/api/pb). Paths
 * are BuildKit's, so a buildctl client and a buildkitd daemon talk to ours.
 */
import { sessionPb } from "../pb/index.ts";
import { toPacket } from "./filesync/packet.ts";
import type { Packet } from "./filesync/packet.ts";
import type { Method } from "./session.ts";

const { filesync, buildkit, sshforward } = sessionPb.moby;
const PbPacket = sessionPb.fsutil.types.Packet;

/** A chunk of bytes (BytesMessage of both filesync and sshforward: same shape, same encoding). */
export interface BytesMessage {
  data: Uint8Array;
}

export interface GetSecretRequest {
  ID: string;
  annotations?: Record<string, string>;
}

export interface GetSecretResponse {
  data: Uint8Array;
}

export interface CheckAgentRequest {
  ID: string;
}

/** Codec of one message type, as the generated classes provide it. */
interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

function method<Req, Res>(path: string, kind: Method<Req, Res>["kind"], req: Codec<Req>, res: Codec<Res>): Method<Req, Res> {
  return {
    path,
    kind,
    encodeRequest: (m) => req.encode(m).finish(),
    decodeRequest: (b) => req.decode(b),
    encodeResponse: (m) => res.encode(m).finish(),
    decodeResponse: (b) => res.decode(b),
  };
}

const packetCodec: Codec<Packet> = {
  encode: (p) => PbPacket.encode({ ...p, type: p.type as number }),
  decode: (b) => toPacket(PbPacket.decode(b)),
};

const bytesCodec: Codec<BytesMessage> = {
  encode: (m) => filesync.v1.BytesMessage.encode(m),
  decode: (b) => ({ data: filesync.v1.BytesMessage.decode(b).data }),
};

const sshBytesCodec: Codec<BytesMessage> = {
  encode: (m) => sshforward.v1.BytesMessage.encode(m),
  decode: (b) => ({ data: sshforward.v1.BytesMessage.decode(b).data }),
};

export const fileSyncDiffCopy = method("/moby.filesync.v1.FileSync/DiffCopy", "bidi", packetCodec, packetCodec);

const FILE_SEND = "/moby.filesync.v1.FileSend/DiffCopy";
/**
 * FileSend.DiffCopy is declared with BytesMessage, and carries that for a tar stream
 * (`--output type=tar`); for `type=local` BuildKit sends fsutil Packets on the same method
 * (gRPC's codec marshals whatever it is handed). The client's target decides which it reads.
 */
export const fileSendBytes = method(FILE_SEND, "bidi", bytesCodec, bytesCodec);
export const fileSendPackets = method(FILE_SEND, "bidi", packetCodec, packetCodec);

export const getSecret = method<GetSecretRequest, GetSecretResponse>(
  "/moby.buildkit.secrets.v1.Secrets/GetSecret",
  "unary",
  { encode: (m) => buildkit.secrets.v1.GetSecretRequest.encode(m), decode: (b) => buildkit.secrets.v1.GetSecretRequest.decode(b) },
  { encode: (m) => buildkit.secrets.v1.GetSecretResponse.encode(m), decode: (b) => buildkit.secrets.v1.GetSecretResponse.decode(b) },
);

export const checkAgent = method<CheckAgentRequest, Record<string, never>>(
  "/moby.sshforward.v1.SSH/CheckAgent",
  "unary",
  { encode: (m) => sshforward.v1.CheckAgentRequest.encode(m), decode: (b) => sshforward.v1.CheckAgentRequest.decode(b) },
  { encode: () => sshforward.v1.CheckAgentResponse.encode({}), decode: () => ({}) },
);

export const forwardAgent = method("/moby.sshforward.v1.SSH/ForwardAgent", "bidi", sshBytesCodec, sshBytesCodec);
