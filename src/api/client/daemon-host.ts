// Whether a command talks to a daemon, and which: `--addr`, else BUILDKIT_HOST. Kept apart from
// daemon-address.ts so that a daemonless command decides without loading the gRPC client.

export interface DaemonHostFlags {
  readonly addr?: string | undefined;
}

/** The daemon address from --addr, else BUILDKIT_HOST; undefined when neither is set (daemonless). */
export function daemonAddress(flags: DaemonHostFlags, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const addr = flags.addr || env.BUILDKIT_HOST || undefined;
  return addr?.trim() || undefined;
}
