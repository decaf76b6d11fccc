import type { CapID } from "./caps.ts";
import { hostPlatform, type Platform } from "./platform.ts";
import { sha256 } from "../digest.ts";
import { hostname } from "node:os";
import type { SourceLocation } from "./source-map.ts";

/** Per-vertex metadata that does not change an op's digest (pb.OpMetadata). */
export interface OpMetadata {
  ignoreCache?: boolean;
  description?: Record<string, string>;
  exportCache?: boolean;
  caps?: Partial<Record<CapID, boolean>>;
  progressGroup?: { id: string; name: string; weak?: boolean };
}

/** What an op is built for: platform, worker filters and metadata (BuildKit's llb.Constraints). */
export interface Constraints {
  platform?: Platform;
  workerConstraints?: readonly string[];
  metadata?: OpMetadata;
  /** Where in a source file (a Dockerfile) the op comes from (Go's SourceLocations). */
  sourceLocations?: readonly SourceLocation[];
}

/** Options of a whole marshal: the defaults every op inherits. */
export interface MarshalOptions extends Constraints {
  /**
   * Written as `local.unique` on local sources. BuildKit's Go client makes a random one per
   * marshal; ours defaults to one derived from the host name, so the same graph gives the
   * same bytes in every process on a machine.
   */
  localUniqueId?: string;
  /**
   * The capabilities the solver is known to have (Go's llb.WithCaps). When given, exec ops
   * either rely on the solver's default PATH (and record exec.meta.setsdefaultpath) or, if
   * that cap is missing, set PATH themselves; when absent, neither.
   */
  caps?: readonly string[];
}

/** Resolved marshal options: what op marshallers receive. */
export interface MarshalContext {
  readonly platform: Platform;
  readonly workerConstraints: readonly string[];
  readonly metadata: OpMetadata;
  readonly localUniqueId: string;
  readonly caps?: readonly string[];
}

export function defaultLocalUniqueId(): string {
  return `buildkit-ts-${sha256(hostname()).slice(7, 27)}`;
}

export function marshalContext(opts: MarshalOptions = {}): MarshalContext {
  return {
    platform: opts.platform ?? hostPlatform(),
    workerConstraints: opts.workerConstraints ?? [],
    metadata: opts.metadata ?? {},
    localUniqueId: opts.localUniqueId ?? defaultLocalUniqueId(),
    caps: opts.caps,
  };
}

/** Merges metadata the way BuildKit does: flags OR-ed, maps merged key by key, later wins. */
export function mergeMetadata(a: OpMetadata | undefined, b: OpMetadata | undefined): OpMetadata {
  const out: OpMetadata = { ...a };
  if (!b) return out;
  if (b.ignoreCache) out.ignoreCache = true;
  if (b.description) out.description = { ...out.description, ...b.description };
  if (b.exportCache !== undefined) out.exportCache = b.exportCache;
  if (b.caps) out.caps = { ...out.caps, ...b.caps };
  if (b.progressGroup) out.progressGroup = b.progressGroup;
  return out;
}

export function addCaps(c: Constraints, ...caps: CapID[]): Constraints {
  const added: Partial<Record<CapID, boolean>> = {};
  for (const cap of caps) added[cap] = true;
  return { ...c, metadata: mergeMetadata(c.metadata, { caps: added }) };
}

export function mergeConstraints(base: Constraints, override: Constraints | undefined): Constraints {
  if (!override) return base;
  const merged: Constraints = {
    platform: override.platform ?? base.platform,
    workerConstraints: [...(base.workerConstraints ?? []), ...(override.workerConstraints ?? [])],
    metadata: mergeMetadata(base.metadata, override.metadata),
  };
  if (base.sourceLocations || override.sourceLocations) return { ...merged, sourceLocations: [...(base.sourceLocations ?? []), ...(override.sourceLocations ?? [])] };
  return merged;
}
