import { createRegistryClient } from "../registry/index.ts";
import type { RegistryClient } from "../registry/index.ts";
import type { Exporter } from "./exporter.ts";
import { createImageExporter } from "./image/index.ts";
import { createLocalExporter } from "./local/index.ts";
import { createDockerExporter, createOciExporter } from "./oci/index.ts";
import { createTarExporter } from "./tar/index.ts";

export interface DefaultExportersOptions {
  /**
   * The registry client type=image,push=true uses, made on first use. Default: one with no
   * buildkitd.toml settings and credentials from Docker's config.json (loopback hosts plain HTTP).
   */
  readonly registry?: () => RegistryClient;
}

/** The exporters `--output type=…` can name. */
export function defaultExporters(opts: DefaultExportersOptions = {}): ReadonlyMap<string, Exporter> {
  const exporters = [createLocalExporter(), createTarExporter(), createImageExporter({ registry: opts.registry ?? (() => createRegistryClient()) }), createOciExporter(), createDockerExporter()];
  return new Map(exporters.map((e) => [e.type, e]));
}

export type { BuildResult, Exporter, ExporterInstance } from "./exporter.ts";
export { parseOutputSpec, type OutputSpec } from "./spec.ts";
