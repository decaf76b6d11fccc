import type { ExporterInstance } from "../../core/exporters/exporter.ts";
import type { ContentStore } from "../../core/worker/content-store.ts";
import type { BuildSession } from "../../core/session/session.ts";

/** A client's session as one build uses it: its inputs, and exporters that deliver to the client. */
export interface AttachedSession {
  readonly buildSession: BuildSession;
  /**
   * An exporter whose output goes to the client (local directory, tar/oci/docker stream);
   * undefined for types the daemon itself exports (image).
   */
  clientExporter(type: string, attrs: Readonly<Record<string, string>>): Promise<ExporterInstance | undefined>;
  /**
   * A content store the client serves over the session, by id (BuildKit's session/content:
   * "local:DIR" for a local cache directory). Calls fail NotFound when the client has no such store.
   */
  contentStore(id: string): ContentStore;
  /** Ends this build's use of the session (forwarding sockets closed). */
  release(): Promise<void>;
}

/** The daemon's view of its clients' sessions, by id. */
export interface ClientSessions {
  /** Session `id` for one build, waiting briefly for the client to open it; NotFound when it never does. */
  attach(id: string, signal: AbortSignal): Promise<AttachedSession>;
}
