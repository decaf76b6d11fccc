// Where the remote client finds its daemon: `--addr` (or BUILDKIT_HOST) as buildctl spells it,
// unix:///path or tcp://host:port, with TLS files for tcp. Connecting is lazy (first call).
import { readFileSync } from "node:fs";
import { BuildkitError } from "../../core/errors.ts";
import { connect, type Channel, type ClientTls } from "../grpc/client.ts";
import { parseAddress } from "../grpc/listen.ts";

export interface DaemonFlags {
  readonly addr?: string | undefined;
  readonly tlscacert?: string | undefined;
  readonly tlscert?: string | undefined;
  readonly tlskey?: string | undefined;
  readonly tlsservername?: string | undefined;
}

export { daemonAddress } from "./daemon-host.ts";

/** Checks the address and TLS flags; throws InvalidArgument naming the flag at fault. */
export function checkDaemonFlags(address: string, flags: DaemonFlags): void {
  try {
    const parsed = parseAddress(address);
    const tlsGiven = flags.tlscacert || flags.tlscert || flags.tlskey || flags.tlsservername;
    if (tlsGiven && parsed.kind !== "tcp") throw new BuildkitError("InvalidArgument", `TLS flags need a tcp:// address, not ${address}`);
    if (Boolean(flags.tlscert) !== Boolean(flags.tlskey)) throw new BuildkitError("InvalidArgument", "--tlscert and --tlskey go together");
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new BuildkitError("InvalidArgument", `--addr ${address}: ${message}`, { cause: err });
  }
}

/** The TLS settings the flags ask for (files read now), or undefined for plain connections. */
export function clientTls(flags: DaemonFlags): ClientTls | undefined {
  if (!flags.tlscacert && !flags.tlscert && !flags.tlskey && !flags.tlsservername) return undefined;
  return {
    ...(flags.tlscacert ? { ca: readPem("--tlscacert", flags.tlscacert) } : {}),
    ...(flags.tlscert ? { cert: readPem("--tlscert", flags.tlscert) } : {}),
    ...(flags.tlskey ? { key: readPem("--tlskey", flags.tlskey) } : {}),
    ...(flags.tlsservername ? { servername: flags.tlsservername } : {}),
  };
}

/** A channel to the daemon; nothing is dialled until the first call. */
export function connectDaemon(address: string, flags: DaemonFlags): Channel {
  checkDaemonFlags(address, flags);
  const tls = clientTls(flags);
  return connect(address, { ...(tls ? { tls } : {}), maxReceiveMessageSize: 64 * 1024 * 1024 });
}

function readPem(flag: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new BuildkitError("InvalidArgument", `reading ${flag} ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
