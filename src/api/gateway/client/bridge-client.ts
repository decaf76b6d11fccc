// moby.buildkit.v1.frontend.LLBBridge as a frontend calls it (BuildKit's grpcclient): the daemon
// that started the frontend answers on the other end of one connection (the container's stdin
// and stdout), so no build id header is needed.
import type { Platform } from "../../../core/llb/platform.ts";
import type { ResolveMode } from "../../../core/llb/index.ts";
import type { OciStoreRef } from "../../../core/frontends/frontend.ts";
import type { CacheEntry } from "../../control/cache-entries.ts";
import type { Channel } from "../../grpc/client.ts";
import type { StatusDetail } from "../../grpc/status.ts";
import { LLBBridgeService } from "../../grpc/services.ts";
import type { ProgressWarning } from "../../../core/progress/events.ts";
import { warningFields } from "../../control/warning-pb.ts";

const methods = LLBBridgeService.methods;

/** A result as the gateway's Result message carries it. */
export type BridgeResult =
  | { readonly kind: "ref"; readonly ref: BridgeRef; readonly metadata: Readonly<Record<string, Uint8Array>> }
  | { readonly kind: "refs"; readonly refs: Readonly<Record<string, BridgeRef>>; readonly metadata: Readonly<Record<string, Uint8Array>> };

/** A solved result on the daemon: its id ("" for scratch) and the definition it came from. */
export interface BridgeRef {
  readonly id: string;
  readonly def?: Uint8Array;
}

/** What the daemon announced in Ping: the gateway and LLB capabilities it has enabled. */
export interface BridgeCaps {
  readonly frontend: ReadonlySet<string>;
  readonly llb: ReadonlySet<string>;
}

export interface BridgeSolveRequest {
  /** A definition to solve, or (with frontend) nothing: the frontend makes the result. */
  readonly definition?: Uint8Array;
  /** Another frontend to run (gateway.v0 with a source option: a frontend image). */
  readonly frontend?: string;
  /** The definitions that frontend is given (its Inputs). */
  readonly frontendInputs?: Readonly<Record<string, Uint8Array>>;
  /** Attributes forwarded on the solve (cache-imports, cache-from), as BuildKit's client forwards them. */
  readonly frontendOpt?: Readonly<Record<string, string>>;
  /** Caches to import for this solve (the frontend's cache-imports). */
  readonly cacheImports?: readonly CacheEntry[];
}

/** The gateway calls a frontend makes, over a channel to the daemon's LLBBridge. */
export class BridgeClient {
  readonly #channel: Channel;
  #caps: BridgeCaps = { frontend: new Set(), llb: new Set() };

  constructor(channel: Channel) {
    this.#channel = channel;
  }

  get caps(): BridgeCaps {
    return this.#caps;
  }

  /** Ping: the first call, as BuildKit's client makes it (15 s at most); keeps the daemon's caps. */
  async ping(signal?: AbortSignal): Promise<BridgeCaps> {
    const pingSignal = AbortSignal.any([AbortSignal.timeout(15_000), ...(signal ? [signal] : [])]);
    const res = await this.#channel.unary(methods.Ping, {}, { signal: pingSignal });
    const enabled = (caps: readonly { ID?: string | null; Enabled?: boolean | null }[] | null | undefined) =>
      new Set((caps ?? []).filter((c) => c.Enabled === true && c.ID).map((c) => c.ID!));
    this.#caps = { frontend: enabled(res.FrontendAPICaps), llb: enabled(res.LLBCaps) };
    return this.#caps;
  }

  /** Solves a definition; the result (a single ref for a plain definition). */
  async solve(req: BridgeSolveRequest, signal?: AbortSignal): Promise<BridgeResult> {
    const res = await this.#channel.unary(
      methods.Solve,
      {
        ...(req.definition ? { Definition: req.definition } : {}),
        ...(req.frontend ? { Frontend: req.frontend, FrontendInputs: { ...req.frontendInputs } } : {}),
        FrontendOpt: { ...req.frontendOpt },
        allowResultReturn: true,
        allowResultArrayRef: true,
        CacheImports: (req.cacheImports ?? []).map((c) => ({ Type: c.Type ?? "", Attrs: { ...c.Attrs } })),
      },
      signal ? { signal } : {},
    );
    const result = res.result;
    // A daemon that predates inline results answers only the ref's id.
    if (!result) return { kind: "ref", ref: { id: res.ref ?? "" }, metadata: {} };
    const metadata = { ...(result.metadata ?? {}) };
    if (result.ref) return { kind: "ref", ref: { id: result.ref.id ?? "", ...(result.ref.def ? { def: result.ref.def } : {}) }, metadata };
    if (result.refs) {
      const refs = Object.fromEntries(Object.entries(result.refs.refs ?? {}).map(([k, r]) => [k, { id: r.id ?? "", ...(r.def ? { def: r.def } : {}) }]));
      return { kind: "refs", refs, metadata };
    }
    if (result.refsDeprecated) {
      const refs = Object.fromEntries(Object.entries(result.refsDeprecated.refs ?? {}).map(([k, id]) => [k, { id }]));
      return { kind: "refs", refs, metadata };
    }
    return { kind: "ref", ref: { id: result.refDeprecated ?? "" }, metadata };
  }

  /** The definitions the client gave this build (Control.Solve's FrontendInputs). */
  async inputs(signal?: AbortSignal): Promise<Record<string, Uint8Array>> {
    const res = await this.#channel.unary(methods.Inputs, {}, signal ? { signal } : {});
    return { ...(res.Definitions ?? {}) };
  }

  /** Warn (cap gateway.warnings): a warning shown on the vertex it names, in the build's progress. */
  async warn(w: ProgressWarning, signal?: AbortSignal): Promise<void> {
    await this.#channel.unary(methods.Warn, { digest: w.vertex, ...warningFields(w) }, signal ? { signal } : {});
  }

  /** A file of a solved result (the whole file). */
  async readFile(ref: string, path: string, signal?: AbortSignal): Promise<Uint8Array> {
    const res = await this.#channel.unary(methods.ReadFile, { Ref: ref, FilePath: path }, signal ? { signal } : {});
    return res.Data ?? new Uint8Array();
  }

  /** An image's digest and config for platform; logName names the vertex the daemon shows. */
  async resolveImageConfig(ref: string, opts: { platform?: Platform; resolveMode: ResolveMode; logName?: string; store?: OciStoreRef; signal?: AbortSignal }): Promise<{ digest: string; config: Uint8Array }> {
    const p = opts.platform;
    const res = await this.#channel.unary(
      methods.ResolveImageConfig,
      {
        Ref: ref,
        ...(p ? { Platform: { OS: p.os, Architecture: p.architecture, ...(p.variant ? { Variant: p.variant } : {}) } } : {}),
        ResolveMode: opts.resolveMode,
        ...(opts.logName ? { LogName: opts.logName } : {}),
        // An OCI layout of the client: ResolverType 1 (llb.ResolverTypeOCILayout) with its store.
        ...(opts.store ? { ResolverType: 1, SessionID: opts.store.sessionId ?? "", StoreID: opts.store.storeId } : {}),
      },
      opts.signal ? { signal: opts.signal } : {},
    );
    return { digest: res.Digest ?? "", config: res.Config ?? new Uint8Array() };
  }

  /**
   * The frontend's final answer: a result or an error status. On a daemon without the
   * proto.refarray cap, refs go in the deprecated fields (ids only), as BuildKit's client does.
   */
  async return(answer: { result: BridgeResult } | { error: { code: number; message: string; details?: readonly StatusDetail[] } }, signal?: AbortSignal): Promise<void> {
    const opts = signal ? { signal } : {};
    if ("error" in answer) {
      const { code, message, details = [] } = answer.error;
      await this.#channel.unary(methods.Return, { error: { code, message, ...(details.length > 0 ? { details: [...details] } : {}) } }, opts);
      return;
    }
    const { result } = answer;
    const refArray = this.#caps.frontend.has("proto.refarray");
    const metadata = { ...result.metadata };
    const pbRef = (r: BridgeRef) => ({ id: r.id, ...(r.def ? { def: r.def } : {}) });
    const body =
      result.kind === "ref"
        ? refArray ? { ref: pbRef(result.ref) } : { refDeprecated: result.ref.id }
        : refArray
          ? { refs: { refs: Object.fromEntries(Object.entries(result.refs).map(([k, r]) => [k, pbRef(r)])) } }
          : { refsDeprecated: { refs: Object.fromEntries(Object.entries(result.refs).map(([k, r]) => [k, r.id])) } };
    await this.#channel.unary(methods.Return, { result: { ...body, metadata } }, opts);
  }
}
