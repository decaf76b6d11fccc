// One Duplex over a readable and a writable stream (a gateway frontend's stdin and stdout, the
// connection to the daemon, as grpcclient's stdioConn): http2 runs over it.
import { Duplex } from "node:stream";

export function stdioDuplex(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Duplex {
  const duplex = new Duplex({
    read() {
      input.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      output.write(chunk, (err) => callback(err ?? null));
    },
    final(callback) {
      output.end(() => callback());
    },
    destroy(err, callback) {
      input.removeListener("data", onData);
      input.pause();
      callback(err);
    },
  });
  const onData = (chunk: Buffer) => {
    if (!duplex.push(chunk)) input.pause();
  };
  input.on("data", onData);
  input.once("end", () => duplex.push(null));
  input.once("error", (err: Error) => duplex.destroy(err));
  output.once("error", (err: Error) => duplex.destroy(err));
  return duplex;
}
