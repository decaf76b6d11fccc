/**
 * Image config and media type defaults of exported images, as BuildKit's containerimage writer
 * has them.
 */
import { goJSON } from "../../go-json.ts";
import { MediaType } from "../../image/oci-types.ts";
import type { ContainerConfig } from "../../image/oci-types.ts";
import type { Platform } from "../../llb/platform.ts";

export const DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** ocispecs.ImageConfig's fields in Go's order; others (Docker's Healthcheck, Shell, …) after them. */
const CONFIG_FIELDS = ["User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels", "StopSignal", "ArgsEscaped"];

function goConfigOrder(config: ContainerConfig): Record<string, unknown> {
  const entries = Object.entries(config).filter(([, v]) => v !== undefined);
  const rank = (k: string) => (CONFIG_FIELDS.includes(k) ? CONFIG_FIELDS.indexOf(k) : CONFIG_FIELDS.length);
  return Object.fromEntries(entries.sort(([a], [b]) => rank(a) - rank(b)));
}

/**
 * The config BuildKit starts from when the frontend gave none (writer.go's defaultImageConfig,
 * as json.Marshal of an ocispecs.Image writes it): the platform, PATH and working directory "/"
 * (or `containerimage.config`'s settings over them). The exporter completes it as it completes
 * a frontend's (patch-config.ts).
 */
export function defaultImageConfig(platform: Platform, config?: ContainerConfig): Uint8Array {
  const image = {
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: goConfigOrder({ Env: [DEFAULT_PATH_ENV], WorkingDir: "/", ...config }),
    rootfs: { type: "layers", diff_ids: null },
  };
  return new TextEncoder().encode(goJSON(image));
}

/** Media types of the manifest, config and layers for OCI or Docker schema2. */
export function mediaTypes(oci: boolean) {
  return oci
    ? { manifest: MediaType.ociManifest, config: MediaType.ociConfig, index: MediaType.ociIndex }
    : { manifest: MediaType.dockerManifest, config: MediaType.dockerConfig, index: MediaType.dockerManifestList };
}
