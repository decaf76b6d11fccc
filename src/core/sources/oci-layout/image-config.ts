/**
 * An image config from the client's OCI layout, as BuildKit answers ResolveImageConfig with the
 * OCI layout resolver: the digest is the one the reference carries (an index's when it names one)
 * and the config is the platform's.
 */
import { withContext } from "../../errors.ts";
import type { Platform } from "../../llb/platform.ts";
import type { BuildSession } from "../../session/session.ts";
import { parseOciLayoutRef } from "./reference.ts";
import { resolveOciLayout } from "./resolve.ts";
import { clientOciStore } from "./source.ts";

export async function ociLayoutImageConfig(session: Pick<BuildSession, "contentStore">, ref: string, platform: Platform, storeId: string, signal: AbortSignal): Promise<{ digest: string; config: Uint8Array }> {
  try {
    const parsed = parseOciLayoutRef(ref);
    const image = await resolveOciLayout(clientOciStore(session, storeId), parsed, platform, storeId, signal);
    return { digest: image.indexDigest ?? image.digest, config: image.configBytes };
  } catch (err) {
    throw withContext(`resolving ${ref} in the client's OCI layout ${JSON.stringify(storeId)}`, err);
  }
}
