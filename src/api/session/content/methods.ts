/**
 * containerd's content service (containerd.services.content.v1.Content) as a client serves it
 * over its session (BuildKit's session/content: the client's local cache directories as content
 * stores), with the codecs of our containerd protos. The store a call means is named in the
 * `buildkit-attachable-store-id` request metadata.
 */
import { containerdPb } from "../../../backends/containerd/pb/index.ts";
import type { Method } from "../session.ts";

const content = containerdPb.containerd.services.content.v1;
const { Empty } = containerdPb.google.protobuf;

/** BuildKit's session/content GRPCHeaderID: the metadata key choosing the client's store. */
export const STORE_ID_HEADER = "buildkit-attachable-store-id";

export type InfoRequest = containerdPb.containerd.services.content.v1.InfoRequest.$Properties;
export type InfoResponse = containerdPb.containerd.services.content.v1.InfoResponse.$Properties;
export type ReadRequest = containerdPb.containerd.services.content.v1.ReadContentRequest.$Properties;
export type ReadResponse = containerdPb.containerd.services.content.v1.ReadContentResponse.$Properties;
export type WriteRequest = containerdPb.containerd.services.content.v1.WriteContentRequest.$Properties;
export type WriteResponse = containerdPb.containerd.services.content.v1.WriteContentResponse.$Properties;
export type DeleteRequest = containerdPb.containerd.services.content.v1.DeleteContentRequest.$Properties;
export type ListRequest = containerdPb.containerd.services.content.v1.ListContentRequest.$Properties;
export type ListResponse = containerdPb.containerd.services.content.v1.ListContentResponse.$Properties;
export type AbortRequest = containerdPb.containerd.services.content.v1.AbortRequest.$Properties;
type EmptyMessage = Record<string, never>;

export const WriteAction = content.WriteAction;

interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

const SERVICE = "/containerd.services.content.v1.Content";

function method<Req, Res>(name: string, kind: Method<Req, Res>["kind"], req: Codec<Req>, res: Codec<Res>): Method<Req, Res> {
  return {
    path: `${SERVICE}/${name}`,
    kind,
    encodeRequest: (m) => req.encode(m).finish(),
    decodeRequest: (b) => req.decode(b),
    encodeResponse: (m) => res.encode(m).finish(),
    decodeResponse: (b) => res.decode(b),
  };
}

const empty: Codec<EmptyMessage> = { encode: () => Empty.encode({}), decode: () => ({}) };

export const contentInfo = method<InfoRequest, InfoResponse>("Info", "unary", content.InfoRequest, content.InfoResponse);
export const contentDelete = method<DeleteRequest, EmptyMessage>("Delete", "unary", content.DeleteContentRequest, empty);
export const contentAbort = method<AbortRequest, EmptyMessage>("Abort", "unary", content.AbortRequest, empty);
/** Server streams: one request, then the replies (carried as a stream the daemon half-closes). */
export const contentRead = method<ReadRequest, ReadResponse>("Read", "bidi", content.ReadContentRequest, content.ReadContentResponse);
export const contentList = method<ListRequest, ListResponse>("List", "bidi", content.ListContentRequest, content.ListContentResponse);
export const contentWrite = method<WriteRequest, WriteResponse>("Write", "bidi", content.WriteContentRequest, content.WriteContentResponse);
