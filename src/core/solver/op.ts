/**
 * The contract between the solver and the ops it runs. The solver knows nothing of containers,
 * snapshots or sources: it asks an adapter (one per op type, chosen by the caller's resolver)
 * for extra cache-key material and to run the op, and it gets back opaque immutable results.
 */
import type { LoadedDefinition, LoadedOp } from "../llb/definition.ts";
import type { SourceProvenance } from "../provenance/capture.ts";

/**
 * An immutable result: for real ops, a committed snapshot known by its id. Each ResultRef is one
 * hold on the result; `release` lets go of that hold (the data may be collected once nothing
 * holds it and no cache record points at it). Release is idempotent per ref.
 */
export interface ResultRef {
  readonly id: string;
  /**
   * Allocated bytes of the result's own data, when the op counted them while writing (the
   * cache index then needs no walk of the result to learn its size).
   */
  readonly size?: number;
  release(): Promise<void>;
}

/** Where an op reports what it is doing; the solver tags everything with the vertex. */
export interface OpProgress {
  /** Output of the op's process (1 = stdout, 2 = stderr). */
  log(stream: 1 | 2, data: Uint8Array): void;
  /** A sub-task's progress (bytes pulled, files copied); `done` marks it completed. */
  status(id: string, current: number, total?: number, done?: boolean): void;
}

export interface OpContext {
  /** Fires when the op's result is no longer wanted (a sibling failed, the build was canceled). */
  readonly signal: AbortSignal;
  readonly progress: OpProgress;
}

export interface OpAdapter {
  /**
   * Extra cache-key material known before running: a local directory's content digest, the
   * digest an image tag resolves to, a git commit. May do I/O. It is mixed into the key with the
   * op itself, so the same op over different content gets a different key.
   */
  contentKey?(ctx: OpContext): Promise<string | undefined>;
  /**
   * A source's cache keys as BuildKit's own source computes them (its CacheKey for cache-map
   * index 0, 1, …), for cache interchange with BuildKit; undefined where BuildKit's key is
   * session-bound (local) or not reproduced. Asked after contentKey; not part of our keys.
   */
  remoteKeys?(ctx: OpContext): Promise<readonly string[] | undefined>;
  /**
   * A source's identity and pin for build information (the resolved image digest, the git
   * commit, the http checksum); asked after contentKey, so it costs no further lookup.
   */
  provenance?(ctx: OpContext): Promise<SourceProvenance | undefined>;
  /**
   * Content-based key of what the op reads from input `index` (BuildKit's checksum of the paths a
   * mount's selector picks). When it returns a string, that string replaces the input's cache key
   * in this op's key: the input is then materialised before this op's key is known, and equal
   * content under a changed input still hits. `undefined` keeps the input's cache key.
   */
  inputKey?(index: number, input: ResultRef, ctx: OpContext): Promise<string | undefined>;
  /**
   * Runs the op on its inputs' results (one per op input, in order; borrowed: do not release
   * them) and returns one committed ResultRef per output, in output order. Must stop promptly,
   * releasing what it made, when `ctx.signal` fires.
   */
  exec(inputs: readonly ResultRef[], ctx: OpContext): Promise<ResultRef[]>;
}

/** Picks the adapter for an op (by op type, source scheme, …). May throw (e.g. Unimplemented). */
export type OpResolver = (op: LoadedOp, def: LoadedDefinition) => OpAdapter;
