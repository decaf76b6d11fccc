// A byte stream carried as BytesMessage{data} gRPC messages, as a node Duplex: BuildKit runs a
// whole nested HTTP/2 connection inside Control.Session this way (its grpchijack).
import { Duplex } from "node:stream";

/** Either side of a bidi BytesMessage call. */
export interface BytesCall {
  readonly messages: AsyncIterable<{ readonly data: Uint8Array }>;
  send(message: { data: Uint8Array }): Promise<void>;
  /** Half-closes the sending side (a client call); a server handler ends by returning instead. */
  end?(): void;
  /** Stops the call (a client call). */
  cancel?(): void;
  /** Fires when the call is over from the outside (canceled, deadline, server closing). */
  readonly signal?: AbortSignal;
}

/**
 * The call as a Duplex: each write is sent as one message; received messages' data is read in
 * order, pulled only as fast as the reader consumes it. Destroying the duplex cancels the call.
 */
export function bytesStreamDuplex(call: BytesCall): Duplex {
  const iterator = call.messages[Symbol.asyncIterator]();
  let pumping = false;
  const duplex: Duplex = new Duplex({
    read() {
      if (pumping) return;
      pumping = true;
      void pump();
    },
    write(chunk: Buffer, _encoding, callback) {
      call.send({ data: chunk }).then(() => callback(), callback);
    },
    final(callback) {
      call.end?.();
      callback();
    },
    destroy(err, callback) {
      call.cancel?.();
      void iterator.return?.()?.catch(() => undefined);
      callback(err);
    },
  });

  async function pump(): Promise<void> {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done === true) {
          // The peer ended the call, so the tunnelled connection is over both ways (nobody
          // reads what we would write): close once the reader has taken everything.
          duplex.once("end", () => duplex.destroy());
          duplex.push(null);
          return;
        }
        // An empty message carries nothing; pushing it would not count as data.
        if (next.value.data.length > 0 && !duplex.push(next.value.data)) return;
      }
    } catch (err) {
      duplex.destroy(err instanceof Error ? err : new Error(String(err)));
    } finally {
      pumping = false;
    }
  }

  const signal = call.signal;
  if (signal !== undefined) {
    const onAbort = () => duplex.destroy();
    if (signal.aborted) queueMicrotask(onAbort);
    else signal.addEventListener("abort", onAbort, { once: true });
    duplex.once("close", () => signal.removeEventListener("abort", onAbort));
  }
  return duplex;
}
