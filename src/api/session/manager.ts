// The daemon's sessions by id: a client opens Control.Session, then names it in Solve.
import { BuildkitError } from "../../core/errors.ts";
import type { AttachedSession, ClientSessions } from "../control/client-sessions.ts";
import { KeyedWaiters } from "../keyed-waiters.ts";
import { acceptSession, type DaemonSession, type SessionCall } from "./tunnel.ts";

/** How long a build waits for its client's session to connect (the client opens both at once). */
const ATTACH_WAIT_MS = 10_000;

export type AttachFn = (session: DaemonSession, signal: AbortSignal) => AttachedSession;

export class SessionManager implements ClientSessions {
  readonly #sessions = new Map<string, DaemonSession>();
  readonly #waiters = new KeyedWaiters<DaemonSession>();
  readonly #attach: AttachFn;
  #closing = false;

  constructor(attach: AttachFn) {
    this.#attach = attach;
  }

  /** The Control.Session handler: keeps the session until the client closes it or the call ends. */
  async handle(call: SessionCall): Promise<void> {
    if (this.#closing) throw new BuildkitError("Unavailable", "session: the daemon is shutting down");
    const session = acceptSession(call);
    if (this.#sessions.has(session.id)) {
      await session.close();
      throw new BuildkitError("AlreadyExists", `session ${session.id} is already open`);
    }
    this.#sessions.set(session.id, session);
    this.#waiters.wake(session.id, session);
    const onAbort = () => void session.close();
    call.signal.addEventListener("abort", onAbort, { once: true });
    try {
      await session.closed;
    } finally {
      call.signal.removeEventListener("abort", onAbort);
      if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
    }
  }

  async attach(id: string, signal: AbortSignal): Promise<AttachedSession> {
    const session = this.#sessions.get(id) ?? (await this.#waiters.wait(id, signal, ATTACH_WAIT_MS));
    if (!session) throw new BuildkitError("NotFound", `session ${id} not found: the client did not open it`);
    return this.#attach(session, signal);
  }

  /** Closes every session (daemon shutdown). */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled([...this.#sessions.values()].map((s) => s.close()));
  }
}
