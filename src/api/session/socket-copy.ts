/**
 * Copies bytes both ways between a socket and a stream of BytesMessages (BuildKit's
 * sshforward.Copy), with backpressure both ways: the socket is paused while a message is being
 * sent, and a message waits for the socket to drain. The peer ending its stream half-closes the
 * socket; with `endStream`, the socket's end half-closes the stream. Resolves when both
 * directions are done; the socket is destroyed then, or on the first error.
 */
import type { Socket } from "node:net";
import type { BytesMessage } from "./methods.ts";
import type { MessageStream } from "./session.ts";

export async function copySocket(socket: Socket, stream: MessageStream<BytesMessage, BytesMessage>, opts: { endStream: boolean }): Promise<void> {
  try {
    await Promise.all([socketToStream(socket, stream, opts.endStream), streamToSocket(stream, socket)]);
  } finally {
    socket.destroy();
  }
}

function socketToStream(socket: Socket, stream: MessageStream<BytesMessage, BytesMessage>, endStream: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) => {
      socket.off("data", onData);
      reject(err);
    };
    const onData = (data: Buffer) => {
      socket.pause();
      stream.send({ data }).then(() => socket.resume(), fail);
    };
    socket.on("data", onData);
    socket.once("end", () => {
      if (endStream) stream.end();
      resolve();
    });
    socket.once("close", () => resolve()); // destroyed from the other direction
    socket.once("error", fail);
  });
}

async function streamToSocket(stream: MessageStream<BytesMessage, BytesMessage>, socket: Socket): Promise<void> {
  for (let msg = await stream.recv(); msg; msg = await stream.recv()) {
    if (socket.destroyed) return;
    if (!socket.write(msg.data)) await drained(socket);
  }
  if (!socket.destroyed) socket.end(); // the peer is done sending; it may still read
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.once("drain", done);
    socket.once("close", done);
  });
}
