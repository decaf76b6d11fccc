import { pb } from "../pb/index.ts";
import { sha256, type Digest } from "../digest.ts";
import { mergeMetadata, type Constraints, type MarshalContext, type OpMetadata } from "./constraints.ts";
import type { Platform } from "./platform.ts";
import type { SourceLocation } from "./source-map.ts";

/** One op, marshalled: its bytes exactly as they go into the Definition, and their digest. */
export interface MarshalledOp {
  readonly digest: Digest;
  readonly bytes: Uint8Array;
  readonly metadata: OpMetadata;
  /** The op's source locations, given to the definition's source map. */
  readonly locations?: readonly SourceLocation[];
}

/** A node of the graph being built. */
export interface Vertex {
  /** The outputs this vertex reads, in the order BuildKit's client visits them. */
  inputs(): readonly Output[];
  marshal(ctx: MarshalContext): MarshalledOp;
}

/** One output of a vertex: what a State points at. */
export interface Output {
  readonly vertex: Vertex;
  readonly platform?: Platform;
  /** Which output of the vertex; may depend on the vertex's final shape (exec mounts). */
  index(ctx: MarshalContext): number;
}

export type PbInput = { digest: string; index?: number };

export function toInput(o: Output, ctx: MarshalContext): PbInput {
  const index = o.index(ctx);
  const digest = o.vertex.marshal(ctx).digest;
  return index === 0 ? { digest } : { digest, index };
}

export function sameInput(a: PbInput, b: PbInput): boolean {
  return a.digest === b.digest && (a.index ?? 0) === (b.index ?? 0);
}

export function simpleOutput(vertex: Vertex, platform?: Platform): Output {
  return { vertex, platform, index: () => 0 };
}

/** Platform as pb writes it; proto3 defaults are left out by the encoder. */
export function pbPlatform(p: Platform): pb.Platform.$Properties {
  const out: pb.Platform.$Properties = { Architecture: p.architecture, OS: p.os };
  if (p.variant) out.Variant = p.variant;
  if (p.osVersion) out.OSVersion = p.osVersion;
  if (p.osFeatures?.length) out.OSFeatures = [...p.osFeatures];
  return out;
}

/**
 * The platform and worker constraints every op carries, and its metadata: BuildKit's
 * MarshalConstraints. The op's own constraints override the marshal's defaults.
 */
export function opBase(ctx: MarshalContext, own: Constraints): OpBase {
  const platform = own.platform ?? ctx.platform;
  const filter = [...ctx.workerConstraints, ...(own.workerConstraints ?? [])];
  const base: OpBase = {
    op: { platform: pbPlatform(platform), constraints: filter.length ? { filter } : {} },
    metadata: mergeMetadata(ctx.metadata, own.metadata),
  };
  // Only the op's own locations: Go's ops store their constraints' SourceLocations, not the marshal's.
  return own.sourceLocations ? { ...base, locations: own.sourceLocations } : base;
}

export interface OpBase {
  op: pb.Op.$Properties;
  metadata: OpMetadata;
  locations?: readonly SourceLocation[];
}

export function encodeOp(op: pb.Op.$Properties, base: Omit<OpBase, "op">): MarshalledOp {
  const bytes = pb.Op.encode(op).finish();
  const m = { digest: sha256(bytes), bytes, metadata: base.metadata };
  return base.locations ? { ...m, locations: base.locations } : m;
}

/** Memoizes a vertex's marshalled form for one marshal context (one marshal call). */
export class MarshalCache {
  #byContext = new WeakMap<MarshalContext, MarshalledOp>();

  get(ctx: MarshalContext, make: () => MarshalledOp): MarshalledOp {
    let m = this.#byContext.get(ctx);
    if (!m) {
      m = make();
      this.#byContext.set(ctx, m);
    }
    return m;
  }

  clear(): void {
    this.#byContext = new WeakMap();
  }
}
