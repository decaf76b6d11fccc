import type { Descriptor } from "../image/oci-types.ts";

/**
 * A backend's own image names (containerd's image store), where exported images are also
 * registered so the backend's tools see them. The engine's images.json stays the record the
 * content GC reads; this is in addition to it.
 */
export interface ImageStore {
  /**
   * Names target `name`, replacing an earlier image of that name. Its blobs are in the worker's
   * content store; `snapshot` is the committed snapshot holding the image's filesystem, when
   * there is one (containerd keeps it while the image is named).
   */
  put(name: string, target: Descriptor, opts?: { readonly snapshot?: string }): Promise<void>;
}
