import type { ContentStore } from "../worker/content-store.ts";
import type { BuildSession } from "./session.ts";

/** The daemonless client's inputs: `--local NAME=PATH`, `--secret`, `--ssh`, `--oci-layout NAME=PATH`. */
export interface LocalSessionInputs {
  /** Directories by name, absolute paths. */
  readonly dirs: ReadonlyMap<string, string>;
  /** Secret readers by id; a value is read only when a step needs it. */
  readonly secrets: ReadonlyMap<string, () => Promise<Uint8Array>>;
  /** Agent socket paths by ssh id. */
  readonly ssh: ReadonlyMap<string, string>;
  /** Content stores by session id ("oci:NAME" for an OCI layout directory). */
  readonly stores?: ReadonlyMap<string, ContentStore>;
}

/** A session over this process's own files: the client and the engine share the host. */
export function localSession(inputs: LocalSessionInputs): BuildSession {
  return {
    localDir: async (name) => inputs.dirs.get(name),
    secret: async (id) => inputs.secrets.get(id)?.(),
    sshSocket: async (id) => inputs.ssh.get(id),
    contentStore: (id) => inputs.stores?.get(id),
  };
}
