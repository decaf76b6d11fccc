// Typed handlers, one shape per method kind, and how each kind runs over a ServerCall.
import type { CallContext, ServerCall } from "./server-call.ts";
import type { Decoded, MessageType, MethodDescriptor, Props, ServiceDescriptor } from "./method.ts";
import { GrpcError, Status } from "./status.ts";

/** A server-streaming or bidi handler's side of the call: it sends responses with send(). */
export interface ServerWriter<Res> extends CallContext {
  send(message: Res): Promise<void>;
}

/** A bidi handler's call: requests to read, responses to send. Returning ends the call OK. */
export interface ServerDuplex<Req, Res> extends ServerWriter<Res> {
  readonly messages: AsyncIterable<Req>;
}

export type UnaryHandler<Req, Res> = (request: Req, call: CallContext) => Promise<Res>;
export type ServerStreamHandler<Req, Res> = (request: Req, call: ServerWriter<Res>) => Promise<void>;
export type ClientStreamHandler<Req, Res> = (requests: AsyncIterable<Req>, call: CallContext) => Promise<Res>;
export type BidiHandler<Req, Res> = (call: ServerDuplex<Req, Res>) => Promise<void>;

/** The handler type a method descriptor asks for. */
export type Handler<D extends MethodDescriptor> =
  D extends MethodDescriptor<infer K, infer Req, infer Res>
    ? K extends "unary"
      ? UnaryHandler<Decoded<Req>, Props<Res>>
      : K extends "serverStream"
        ? ServerStreamHandler<Decoded<Req>, Props<Res>>
        : K extends "clientStream"
          ? ClientStreamHandler<Decoded<Req>, Props<Res>>
          : BidiHandler<Decoded<Req>, Props<Res>>
    : never;

/** Handlers for some of a service's methods; the others answer UNIMPLEMENTED. */
export type ServiceHandlers<S extends ServiceDescriptor> = { readonly [K in keyof S["methods"]]?: Handler<S["methods"][K]> };

function decoder(type: MessageType): (bytes: Uint8Array) => object {
  return (bytes) => {
    try {
      return type.decode(bytes);
    } catch (err) {
      throw new GrpcError(Status.INTERNAL, `decoding request: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  };
}

async function* decodeAll(raw: AsyncIterable<Uint8Array>, decode: (b: Uint8Array) => object): AsyncGenerator<object> {
  for await (const bytes of raw) yield decode(bytes);
}

/** Runs a typed handler for one call and finishes the call with its outcome. */
export async function runHandler(method: MethodDescriptor, handler: Handler<MethodDescriptor>, call: ServerCall): Promise<void> {
  const decode = decoder(method.requestType);
  const encode = (m: object) => method.responseType.encode(m).finish();
  const writer: ServerWriter<object> = {
    metadata: call.metadata,
    signal: call.signal,
    deadline: call.deadline,
    send: (m) => call.send(encode(m)),
  };
  try {
    switch (method.kind) {
      case "unary": {
        const response = await (handler as UnaryHandler<object, object>)(decode(await call.readOne()), call);
        await call.send(encode(response));
        break;
      }
      case "serverStream":
        await (handler as ServerStreamHandler<object, object>)(decode(await call.readOne()), writer);
        break;
      case "clientStream": {
        const response = await (handler as ClientStreamHandler<object, object>)(decodeAll(call.messages(), decode), call);
        await call.send(encode(response));
        break;
      }
      case "bidi":
        await (handler as BidiHandler<object, object>)({ ...writer, messages: decodeAll(call.messages(), decode) });
        break;
      default: {
        const never: never = method.kind;
        throw new GrpcError(Status.INTERNAL, `running handler: unknown method kind ${String(never)}`);
      }
    }
    call.finish();
  } catch (err) {
    call.finish(err);
  }
}
