/**
 * Build secrets over the session (BuildKit's session/secrets): the daemon asks the client for a
 * secret by id when a step mounts it; the client answers from the secrets it was given
 * (`--secret`). Values are read only when asked for, and never larger than 500 KiB.
 */
import { BuildkitError, withContext } from "../../core/errors.ts";
import { getSecret as getSecretMethod } from "./methods.ts";
import { unaryHandler } from "./session.ts";
import type { SessionCaller, SessionHandler } from "./session.ts";

/** BuildKit's limit on one secret. */
export const MAX_SECRET_SIZE = 500 * 1024;

/** Reads one secret's value (a file's content, an environment variable). */
export type SecretReader = () => Promise<Uint8Array>;

/**
 * Daemon side: the value of secret `id`. A client that does not have it (or serves no secrets)
 * is NotFound, naming the id.
 */
export async function getSecret(caller: SessionCaller, id: string, signal?: AbortSignal): Promise<Uint8Array> {
  try {
    const res = await caller.unary(getSecretMethod, { ID: id }, signal ? { signal } : {});
    return res.data;
  } catch (err) {
    if (err instanceof BuildkitError && (err.code === "NotFound" || err.code === "Unimplemented")) {
      throw new BuildkitError("NotFound", `secret ${id} not found: pass it with --secret id=${id},src=PATH`, { cause: err });
    }
    throw withContext(`reading secret ${id} from the client`, err);
  }
}

/** Client side: answers GetSecret from `secrets` (id → reader). */
export function secretsHandler(secrets: ReadonlyMap<string, SecretReader>): SessionHandler {
  return unaryHandler(getSecretMethod, async (req) => {
    const read = secrets.get(req.ID);
    if (!read) throw new BuildkitError("NotFound", `secret ${req.ID}: not found`);
    const data = await read();
    if (data.length > MAX_SECRET_SIZE) {
      throw new BuildkitError("InvalidArgument", `secret ${req.ID}: ${data.length} bytes, more than the ${MAX_SECRET_SIZE} allowed`);
    }
    return { data };
  });
}
