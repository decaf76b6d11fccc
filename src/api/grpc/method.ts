// Method descriptors: a method's path, kind and message codecs, named once and shared by the
// server and the client so both sides type their messages from the generated classes.

/** The encode/decode pair of a generated protobufjs message class. */
export interface MessageType {
  encode(message: object): { finish(): Uint8Array };
  decode(bytes: Uint8Array): object;
}

/** What a sender may pass: the class's properties shape. */
export type Props<T extends MessageType> = Parameters<T["encode"]>[0];
/** What a receiver gets: the decoded message. */
export type Decoded<T extends MessageType> = ReturnType<T["decode"]>;

export type MethodKind = "unary" | "serverStream" | "clientStream" | "bidi";

export interface MethodDescriptor<K extends MethodKind = MethodKind, Req extends MessageType = MessageType, Res extends MessageType = MessageType> {
  /** "/package.Service/Method" */
  readonly path: string;
  readonly kind: K;
  readonly requestType: Req;
  readonly responseType: Res;
}

export type UnaryMethod<Req extends MessageType = MessageType, Res extends MessageType = MessageType> = MethodDescriptor<"unary", Req, Res>;
export type ServerStreamMethod<Req extends MessageType = MessageType, Res extends MessageType = MessageType> = MethodDescriptor<"serverStream", Req, Res>;
export type ClientStreamMethod<Req extends MessageType = MessageType, Res extends MessageType = MessageType> = MethodDescriptor<"clientStream", Req, Res>;
export type BidiMethod<Req extends MessageType = MessageType, Res extends MessageType = MessageType> = MethodDescriptor<"bidi", Req, Res>;

/** A service: its full name ("moby.buildkit.v1.Control") and its methods by name. */
export interface ServiceDescriptor<M extends Record<string, MethodDescriptor> = Record<string, MethodDescriptor>> {
  readonly name: string;
  readonly methods: M;
}

/** Builds a service descriptor from method kinds and codecs; paths are derived from the names. */
export function defineService<const M extends Record<string, readonly [MethodKind, MessageType, MessageType]>>(
  name: string,
  methods: M,
): ServiceDescriptor<{ [K in keyof M & string]: MethodDescriptor<M[K][0], M[K][1], M[K][2]> }> {
  const out: Record<string, MethodDescriptor> = {};
  for (const [method, [kind, requestType, responseType]] of Object.entries(methods)) {
    out[method] = { path: `/${name}/${method}`, kind, requestType, responseType };
  }
  return { name, methods: out as { [K in keyof M & string]: MethodDescriptor<M[K][0], M[K][1], M[K][2]> } };
}
