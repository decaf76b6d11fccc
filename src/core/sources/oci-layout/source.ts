/**
 * `oci-layout://REF`: an image in an OCI layout the client serves over its session as the
 * content store "oci:"+STORE (the `oci.store` attr; buildctl's --oci-layout STORE=DIR), pulled
 * as a registry image is (image/pulled.ts: the same cache keys, layer limit and unpacking), with
 * the layout in place of the registry. BuildKit always "pulls" here: the digest is looked up in
 * the client's store on every build; layers the worker already has are not fetched again.
 *
 * The `oci.session` attr is not followed: the store is the build's own session's, as for local
 * sources here (BuildKit's frontends name that same session).
 */
import { BuildkitError, withContext } from "../../errors.ts";
import type { Platform } from "../../llb/platform.ts";
import type { pb } from "../../pb/index.ts";
import type { BuildSession } from "../../session/session.ts";
import type { OpAdapter } from "../../solver/op.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import { parseLayerLimit, pulledImageAdapter } from "../image/pulled.ts";
import type { UnpackDeps } from "../image/unpack.ts";
import { parseOciLayoutRef } from "./reference.ts";
import { ociLayoutLayers, ociStoreId, resolveOciLayout } from "./resolve.ts";

/** BuildKit's attribute names (solver/pb/attr.go). */
const STORE_ATTR = "oci.store";
const LAYER_LIMIT_ATTR = "oci.layerlimit";

export interface OciLayoutDeps extends UnpackDeps {
  readonly session: BuildSession;
}

/** The client's store `storeId` in session; NotFound, with the flag that gives one, when it has none. */
export function clientOciStore(session: Pick<BuildSession, "contentStore">, storeId: string): ContentStore {
  const store = session.contentStore(ociStoreId(storeId));
  if (store === undefined) throw new BuildkitError("NotFound", `the client serves no OCI layout ${JSON.stringify(storeId)} (give one with --oci-layout ${storeId || "NAME"}=DIR)`);
  return store;
}

export function ociLayoutSource(op: pb.SourceOp.$Properties, platform: Platform, deps: OciLayoutDeps): OpAdapter {
  const identifier = op.identifier ?? "";
  const what = `resolving ${identifier}`;
  const ref = (() => {
    try {
      return parseOciLayoutRef(identifier.slice("oci-layout://".length));
    } catch (err) {
      throw withContext(what, err);
    }
  })();
  const storeId = op.attrs?.[STORE_ATTR] ?? "";
  return pulledImageAdapter({
    async resolve(signal) {
      try {
        return await resolveOciLayout(clientOciStore(deps.session, storeId), ref, platform, storeId, signal);
      } catch (err) {
        throw withContext(what, err);
      }
    },
    layers: () => ociLayoutLayers(clientOciStore(deps.session, storeId)),
    // BuildKit v0.11 captures these as "local images": provenance materials, left out of build information.
    provenance: (image) => ({ type: "oci-layout", ref: ref.text, platform, digest: image.indexDigest ?? image.digest }),
    layerLimit: parseLayerLimit(op.attrs?.[LAYER_LIMIT_ATTR]),
  }, platform, deps);
}
