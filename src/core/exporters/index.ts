import type { RegistryClient } from "../registry/index.ts";
import type { Exporter } from "./exporter.ts";

export interface ExporterOptions {
  /**
   * The registry client type=image,push=true uses, made on first use. Default: one with no
   * buildkitd.toml settings and credentials from Docker's config.json (loopback hosts plain HTTP).
   */
  readonly registry?: () => Promise<RegistryClient>;
}

/** The exporters `--output type=…` can name; each module loads only when its type is asked for. */
const LOADERS: Readonly<Record<string, (opts: ExporterOptions) => Promise<Exporter>>> = {
  local: async () => (await import("./local/index.ts")).createLocalExporter(),
  tar: async () => (await import("./tar/index.ts")).createTarExporter(),
  image: async (opts) =>
    (await import("./image/index.ts")).createImageExporter({
      registry: opts.registry ?? (async () => (await import("../registry/index.ts")).createRegistryClient()),
    }),
  oci: async () => (await import("./oci/index.ts")).createOciExporter(),
  docker: async () => (await import("./oci/index.ts")).createDockerExporter(),
};

export const EXPORTER_TYPES: readonly string[] = Object.keys(LOADERS);

/** The exporter for `type`, or undefined when there is none. */
export async function loadExporter(type: string, opts: ExporterOptions = {}): Promise<Exporter | undefined> {
  return Object.hasOwn(LOADERS, type) ? LOADERS[type]!(opts) : undefined;
}

export type { BuildResult, Exporter, ExporterInstance } from "./exporter.ts";
export { parseOutputSpec, type OutputSpec } from "./spec.ts";
