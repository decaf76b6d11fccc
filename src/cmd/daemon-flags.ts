// The flags that point a command at a daemon (as buildctl spells them), shared by build, du,
// prune and debug workers. Without --addr or BUILDKIT_HOST, build, du and prune work daemonless.
import type { Channel } from "../api/grpc/client.ts";
import { daemonAddress } from "../api/client/daemon-host.ts";
import { BuildkitError } from "../core/errors.ts";

export const DAEMON_ARGS = {
  addr: { type: "string", description: "Daemon address: unix:///path or tcp://host:port (default $BUILDKIT_HOST; unset: daemonless)" },
  tlscacert: { type: "string", description: "CA certificate (PEM) that signed the daemon's" },
  tlscert: { type: "string", description: "Client certificate (PEM) for mutual TLS" },
  tlskey: { type: "string", description: "Client key (PEM) for mutual TLS" },
  tlsservername: { type: "string", description: "The name the daemon's certificate must hold (default: the address's host)" },
} as const;

export interface DaemonArgs {
  readonly addr?: string | undefined;
  readonly tlscacert?: string | undefined;
  readonly tlscert?: string | undefined;
  readonly tlskey?: string | undefined;
  readonly tlsservername?: string | undefined;
}

/** The daemon address the arguments (or BUILDKIT_HOST) name; undefined: none (no gRPC code loads). */
export async function remoteAddress(args: DaemonArgs): Promise<string | undefined> {
  return daemonAddress(args, process.env);
}

/** A channel to the daemon; flags are checked now, the connection is made on the first call. */
export async function openDaemon(address: string, args: DaemonArgs): Promise<Channel> {
  const { connectDaemon } = await import("../api/client/daemon-address.ts");
  return connectDaemon(address, args);
}

/** Outside Linux there is no runc or overlayfs: say so in one line, and what to do instead. */
export function requireLinux(what: string, platform: string = process.platform): void {
  if (platform === "linux") return;
  throw new BuildkitError(
    "FailedPrecondition",
    `${what} daemonless needs Linux (runc, overlayfs); point at a build host with --addr tcp://HOST:PORT (or BUILDKIT_HOST)`,
  );
}

/** A daemon's failure as one line naming where it happened. */
export function daemonError(address: string, err: unknown): unknown {
  if (err instanceof BuildkitError && err.code === "Unavailable") {
    return new BuildkitError("Unavailable", `connecting to daemon ${address}: ${err.message.replace(/^calling \S+: /, "")}`, { cause: err });
  }
  return err;
}
