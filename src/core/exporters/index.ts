import type { Exporter } from "./exporter.ts";
import { createLocalExporter } from "./local/index.ts";
import { createTarExporter } from "./tar/index.ts";

/** The exporters `--output type=…` can name. */
export function defaultExporters(): ReadonlyMap<string, Exporter> {
  return new Map([createLocalExporter(), createTarExporter()].map((e) => [e.type, e]));
}

export type { BuildResult, Exporter, ExporterInstance } from "./exporter.ts";
export { parseOutputSpec, type OutputSpec } from "./spec.ts";
