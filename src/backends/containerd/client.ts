// A connection to containerd: calls carry the namespace (and, when given, a lease) in the
// headers containerd reads them from; failures become BuildkitErrors that say what was being done.
import { connect, type Channel, type ClientDuplex, type ClientReadable } from "../../api/grpc/client.ts";
import type { BidiMethod, Decoded, MessageType, Props, ServerStreamMethod, UnaryMethod } from "../../api/grpc/method.ts";
import { GrpcError, Status, toBuildkitError } from "../../api/grpc/status.ts";
import { BuildkitError } from "../../core/errors.ts";

export interface CallOpts {
  /** containerd-lease: what the call creates is held by this lease. */
  readonly lease?: string;
  readonly signal?: AbortSignal;
}

export class ContainerdClient {
  readonly address: string;
  readonly namespace: string;
  readonly #channel: Channel;

  constructor(address: string, namespace: string) {
    this.address = address;
    this.namespace = namespace;
    this.#channel = connect(`unix://${address}`, { peerWindowFix: false });
  }

  #metadata(opts: CallOpts): Record<string, string> {
    return { "containerd-namespace": this.namespace, ...(opts.lease ? { "containerd-lease": opts.lease } : {}) };
  }

  /** One unary call; `what` names the action for the error message ("preparing snapshot x"). */
  async unary<Req extends MessageType, Res extends MessageType>(what: string, method: UnaryMethod<Req, Res>, req: Props<Req>, opts: CallOpts = {}): Promise<Decoded<Res>> {
    try {
      return await this.#channel.unary(method, req, { metadata: this.#metadata(opts), signal: opts.signal });
    } catch (err) {
      throw this.error(what, err);
    }
  }

  serverStream<Req extends MessageType, Res extends MessageType>(method: ServerStreamMethod<Req, Res>, req: Props<Req>, opts: CallOpts = {}): ClientReadable<Decoded<Res>> {
    return this.#channel.serverStream(method, req, { metadata: this.#metadata(opts), signal: opts.signal });
  }

  bidi<Req extends MessageType, Res extends MessageType>(method: BidiMethod<Req, Res>, opts: CallOpts = {}): ClientDuplex<Props<Req>, Decoded<Res>> {
    return this.#channel.bidi(method, { metadata: this.#metadata(opts), signal: opts.signal });
  }

  /** A failed call as `what: cause`, with containerd's code; an unreachable daemon says so. */
  error(what: string, err: unknown): BuildkitError {
    if (err instanceof BuildkitError) return err;
    if (err instanceof GrpcError) {
      if (err.code === Status.UNAVAILABLE) {
        return new BuildkitError("Unavailable", `${what}: containerd at ${this.address} is unreachable (${err.message})`, { cause: err });
      }
      const inner = toBuildkitError(err);
      return new BuildkitError(inner.code, `${what}: ${err.message}`, { cause: err });
    }
    const message = err instanceof Error ? err.message : String(err);
    return new BuildkitError("Unavailable", `${what}: containerd at ${this.address}: ${message}`, { cause: err });
  }

  close(): Promise<void> {
    return this.#channel.close();
  }
}

/** True when err is containerd's "not found". */
export function isNotFound(err: unknown): boolean {
  return err instanceof BuildkitError && err.code === "NotFound";
}
