// The request headers of a Control.Session call: who the session is and which gRPC methods
// its client serves (BuildKit's session.go names them).
import { invalidArgument } from "../../core/errors.ts";
import { metadataValue, metadataValues, type Metadata } from "../grpc/metadata.ts";

export const SESSION_ID_HEADER = "x-docker-expose-session-uuid";
export const SESSION_NAME_HEADER = "x-docker-expose-session-name";
export const SESSION_SHARED_KEY_HEADER = "x-docker-expose-session-sharedkey";
export const SESSION_METHOD_HEADER = "x-docker-expose-session-grpc-method";

export interface SessionInfo {
  readonly id: string;
  readonly name: string;
  readonly sharedKey: string;
  /** Method paths ("/moby.filesync.v1.FileSync/DiffCopy") the client serves. */
  readonly methods: readonly string[];
}

/** Reads a Session call's headers; a call without a session id is refused. */
export function parseSessionMetadata(metadata: Metadata): SessionInfo {
  const id = metadataValue(metadata, SESSION_ID_HEADER);
  if (id === undefined) throw invalidArgument(`accepting session: the ${SESSION_ID_HEADER} header is missing`);
  return {
    id,
    name: metadataValue(metadata, SESSION_NAME_HEADER) ?? "",
    sharedKey: metadataValue(metadata, SESSION_SHARED_KEY_HEADER) ?? "",
    methods: metadataValues(metadata, SESSION_METHOD_HEADER),
  };
}

/** The headers a client sends to open a session. */
export function sessionMetadata(info: SessionInfo): Metadata {
  return {
    [SESSION_ID_HEADER]: info.id,
    [SESSION_NAME_HEADER]: info.name,
    [SESSION_SHARED_KEY_HEADER]: info.sharedKey,
    [SESSION_METHOD_HEADER]: [...info.methods],
  };
}
