/**
 * SSH agent forwarding over the session (BuildKit's session/sshforward). Daemon side: a unix
 * socket on the daemon's host, bind-mounted into a step; each connection to it becomes a
 * ForwardAgent stream to the client, the agent's id in the `buildkit.ssh.id` metadata. Client
 * side: each such stream is connected to the local agent socket given for that id (`--ssh`).
 */
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildkitError, withContext } from "../../core/errors.ts";
import { checkAgent, forwardAgent } from "./methods.ts";
import { bidiHandler, unaryHandler } from "./session.ts";
import type { SessionCaller, SessionHandler } from "./session.ts";
import { copySocket } from "./socket-copy.ts";

export const DEFAULT_SSH_ID = "default";
/** Metadata key naming the agent a ForwardAgent stream is for. */
export const keySSHID = "buildkit.ssh.id";

/** Daemon side: fails, naming the id, unless the client forwards agent `id` (before the build). */
export async function checkSshAgent(caller: SessionCaller, id: string = DEFAULT_SSH_ID, signal?: AbortSignal): Promise<void> {
  try {
    await caller.unary(checkAgent, { ID: id }, signal ? { signal } : {});
  } catch (err) {
    if (err instanceof BuildkitError && (err.code === "NotFound" || err.code === "Unimplemented")) {
      throw new BuildkitError("NotFound", `ssh agent ${id} not found: pass it with --ssh ${id}=SOCKET`, { cause: err });
    }
    throw withContext(`checking ssh agent ${id}`, err);
  }
}

export interface SshSocketOptions {
  readonly id?: string;
  /** Owner and mode of the socket (the step's user reads it); default root and 0600. */
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

export interface SshSocket {
  readonly path: string;
  /** Stops listening, cuts open connections and removes the socket. */
  close(): Promise<void>;
}

/** Daemon side: a socket whose connections are forwarded to the client's agent `opts.id`. */
export async function mountSshSocket(caller: SessionCaller, opts: SshSocketOptions = {}): Promise<SshSocket> {
  const id = opts.id || DEFAULT_SSH_ID;
  const dir = await mkdtemp(join(tmpdir(), ".buildkit-ssh-sock"));
  const path = join(dir, "ssh_auth_sock");
  const calls = new Set<AbortController>();
  // Half-open: a client that is done writing still reads the agent's answers.
  const server = createServer({ allowHalfOpen: true }, (conn) => {
    const call = new AbortController();
    calls.add(call);
    const stream = caller.stream(forwardAgent, { metadata: { [keySSHID]: [id] }, signal: call.signal });
    copySocket(conn, stream, { endStream: true })
      .catch(() => call.abort(new BuildkitError("Canceled", `forwarding ssh agent ${id}: connection failed`)))
      .finally(() => calls.delete(call));
  });
  try {
    await chmod(dir, 0o711);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
    if (process.getuid?.() === 0) await chown(path, opts.uid ?? 0, opts.gid ?? 0);
    await chmod(path, opts.mode ?? 0o600);
  } catch (err) {
    server.close();
    await rm(dir, { recursive: true, force: true });
    throw withContext(`making the ssh agent socket for ${id}`, err);
  }
  return {
    path,
    close: async () => {
      for (const call of calls) call.abort(new BuildkitError("Canceled", `forwarding ssh agent ${id}: closed`));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Client side: CheckAgent and ForwardAgent for the agents given as id → socket path. */
export function sshHandlers(agents: ReadonlyMap<string, string>): SessionHandler[] {
  const lookup = (id: string): string => {
    const socket = agents.get(id || DEFAULT_SSH_ID);
    if (!socket) throw new BuildkitError("NotFound", `unset ssh forward key ${id || DEFAULT_SSH_ID}`);
    return socket;
  };
  return [
    unaryHandler(checkAgent, async (req) => {
      lookup(req.ID);
      return {};
    }),
    bidiHandler(forwardAgent, async (stream, { metadata }) => {
      const socket = await connect(lookup(metadata[keySSHID]?.[0] ?? ""));
      await copySocket(socket, stream, { endStream: false });
    }),
  ];
}

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path, allowHalfOpen: true });
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", (err) => reject(new BuildkitError("Unavailable", `connecting to ssh agent ${path}: ${err.message}`, { cause: err })));
  });
}
