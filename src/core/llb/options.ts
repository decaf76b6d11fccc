import type { Constraints, OpMetadata } from "./constraints.ts";
import type { Platform } from "./platform.ts";
import type { SourceLocation } from "./source-map.ts";

/** Options every op accepts: how it is named and shown, and what it is built for. */
export interface OpOptions {
  /** Shown instead of the generated vertex name (BuildKit's llb.WithCustomName). */
  name?: string;
  /** Free-form key/values kept in the vertex's metadata. */
  description?: Record<string, string>;
  /** Run this op even when a cached result exists. */
  ignoreCache?: boolean;
  platform?: Platform;
  workerConstraints?: readonly string[];
  progressGroup?: { id: string; name: string; weak?: boolean };
  /** Whether a cache export includes this op's result (Go's WithExportCache/WithoutExportCache). */
  exportCache?: boolean;
  /** Where in a source file the op comes from (Go's sourceMap.Location(ranges) options). */
  locations?: readonly SourceLocation[];
}

export const CUSTOM_NAME_KEY = "llb.customname";

export function constraintsOf(opts: OpOptions | undefined): Constraints {
  if (!opts) return {};
  const metadata: OpMetadata = {};
  const description = { ...opts.description };
  if (opts.name !== undefined) description[CUSTOM_NAME_KEY] = opts.name;
  if (Object.keys(description).length) metadata.description = description;
  if (opts.ignoreCache) metadata.ignoreCache = true;
  if (opts.progressGroup) metadata.progressGroup = opts.progressGroup;
  if (opts.exportCache !== undefined) metadata.exportCache = opts.exportCache;
  const c: Constraints = { metadata };
  if (opts.platform) c.platform = opts.platform;
  if (opts.workerConstraints) c.workerConstraints = opts.workerConstraints;
  if (opts.locations?.length) c.sourceLocations = opts.locations;
  return c;
}
