import type { ContentStore } from "../worker/content-store.ts";

/**
 * What a build may use from the client that asked for it: its local directories, its secrets,
 * its ssh agents and the content stores it serves (OCI layouts). Daemonless, they are the caller's own files and sockets (local.ts); under
 * `buildkit serve` they come through the client's session stream (src/api/session). The engine
 * and its ops see only this interface.
 */

/** How the build will read a local directory: the client applies the filters before sending. */
export interface LocalDirRequest {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly followPaths?: readonly string[];
  /** `local.sharedkeyhint`: names the directory across builds, for incremental transfer. */
  readonly sharedKeyHint?: string;
  readonly signal: AbortSignal;
  /** Bytes received from a remote client so far; `done` on the last call. */
  readonly onProgress?: (bytes: number, done: boolean) => void;
}

export interface BuildSession {
  /**
   * A directory on this host holding the client's local `name` (transferred first when the
   * client is remote); undefined when the client did not provide it.
   */
  localDir(name: string, request: LocalDirRequest): Promise<string | undefined>;
  /** A secret's value (never stored in results or traces); undefined when the client has none by this id. */
  secret(id: string, signal?: AbortSignal): Promise<Uint8Array | undefined>;
  /** A unix socket on this host that reaches the client's ssh agent `id`; undefined when none. */
  sshSocket(id: string, signal?: AbortSignal): Promise<string | undefined>;
  /**
   * A content store the client serves (BuildKit's session/content), by id: "oci:NAME" for its
   * `--oci-layout NAME=DIR`. Undefined when the client has certainly none by that id; a remote
   * client's store is only found out on first use (its calls then fail NotFound).
   */
  contentStore(id: string): ContentStore | undefined;
}

/** A session that provides nothing (builds with no client inputs, tests). */
export const EMPTY_SESSION: BuildSession = {
  localDir: async () => undefined,
  secret: async () => undefined,
  sshSocket: async () => undefined,
  contentStore: () => undefined,
};
