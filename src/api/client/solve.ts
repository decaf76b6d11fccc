// One build on a daemon, as BuildKit's client/solve.go runs it: open a session serving the
// client's directories, secrets, agents and export target; call Control.Solve with the
// definition (the v0.11 single-exporter fields and the later Exporters list); stream
// Control.Status by the build's ref into the caller's progress writer. Canceling the signal
// cancels the Solve call, which cancels the build on the daemon.
import { BuildkitError } from "../../core/errors.ts";
import type { ProgressWriter } from "../../core/progress/events.ts";
import { eventsOfStatus } from "../control/status.ts";
import type { Channel } from "../grpc/client.ts";
import { ControlService } from "../grpc/services.ts";
import { fromGrpcStatus, GrpcError } from "../grpc/status.ts";
import { openSession } from "../session/tunnel.ts";
import { newId } from "./identity.ts";
import { storeHandlers, tagExportedCaches, type LocalCaches } from "./local-caches.ts";
import { EXPORT_STORE, layoutStore, tagExportedImage } from "./layout-output.ts";
import { LocalContentStore } from "../session/content/local-store.ts";
import type { RemoteOutput } from "./outputs.ts";
import { createSessionServer, type SessionInputs } from "./session-services.ts";

export interface CacheEntry {
  readonly type: string;
  readonly attrs: Readonly<Record<string, string>>;
}

export interface RemoteSolveOptions {
  readonly definition: Uint8Array;
  /** A frontend for the daemon to run instead of a definition (SolveRequest.Frontend). */
  readonly frontend?: { readonly name: string; readonly opts: Readonly<Record<string, string>> };
  /** Attributes the daemon's controller reads with or without a frontend (attest:*), as buildctl sends its --opt. */
  readonly attrs?: Readonly<Record<string, string>>;
  readonly output?: RemoteOutput | undefined;
  readonly inputs: Omit<SessionInputs, "output">;
  readonly sharedKey: string;
  readonly noCache?: boolean;
  readonly cacheExports?: readonly CacheEntry[];
  readonly cacheImports?: readonly CacheEntry[];
  /**
   * The `type=local` caches (prepareLocalCaches; cacheExports/cacheImports are its entries):
   * their directories are served over the session and the exported cache is tagged in them.
   */
  readonly localCaches?: LocalCaches;
  /** `--oci-layout NAME=DIR`: directories served as the session's content stores "oci:NAME". */
  readonly ociLayouts?: ReadonlyMap<string, string>;
  readonly progress: ProgressWriter;
  readonly signal: AbortSignal;
  /** The build's ref (default: a new id). */
  readonly ref?: string;
}

/** How long Status may keep going after Solve returned (BuildKit's client waits 3 s). */
const STATUS_GRACE_MS = 3000;

/** Runs the build; resolves with the exporter's response, throws the daemon's error. */
export async function solveRemote(channel: Channel, opts: RemoteSolveOptions): Promise<Record<string, string>> {
  const ref = opts.ref ?? newId();
  const sessionId = newId();
  // Content stores the daemon reaches over the session: local cache directories, an OCI layout
  // output's ("export"), and the OCI layouts oci-layout sources read ("oci:NAME", as buildctl names them).
  const stores = new Map(opts.localCaches?.stores ?? []);
  if (opts.output?.layoutDir) stores.set(EXPORT_STORE, layoutStore(opts.output.layoutDir));
  for (const [name, dir] of opts.ociLayouts ?? []) stores.set(`oci:${name}`, new LocalContentStore(dir));
  const server = createSessionServer({
    ...opts.inputs,
    ...(opts.output?.target ? { output: opts.output.target } : {}),
    ...(stores.size > 0 ? { contentHandlers: await storeHandlers(stores) } : {}),
  });
  const session = openSession(channel, server, { id: sessionId, name: "buildkit-ts", sharedKey: opts.sharedKey, signal: opts.signal });
  const statusAbort = new AbortController();
  const status = streamStatus(channel, ref, opts.progress, statusAbort.signal);
  try {
    const output = opts.output;
    const res = await channel.unary(
      ControlService.methods.Solve,
      {
        Ref: ref,
        Definition: opts.definition,
        Session: sessionId,
        ...(output ? { Exporter: output.type, ExporterAttrs: { ...output.attrs }, Exporters: [{ Type: output.type, Attrs: { ...output.attrs } }] } : {}),
        ...(opts.frontend ? { Frontend: opts.frontend.name } : {}),
        ...(opts.frontend || opts.noCache || opts.attrs ? { FrontendAttrs: { ...opts.attrs, ...opts.frontend?.opts, ...frontendCacheImports(opts), ...(opts.noCache ? { "no-cache": "" } : {}) } } : {}),
        ...cacheOptions(opts),
      },
      { signal: opts.signal },
    );
    const response = { ...(res.ExporterResponse ?? {}) };
    if (opts.localCaches) await tagExportedCaches(opts.localCaches, response);
    if (opts.output?.layoutDir) await tagExportedImage(opts.output.layoutDir, response);
    return response;
  } catch (err) {
    if (opts.signal.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new BuildkitError("Canceled", "build canceled");
    // The daemon's sources and failed vertex (status details) come back as wrappers, for the CLI to print.
    throw err instanceof GrpcError ? fromGrpcStatus(err) : err;
  } finally {
    const timer = setTimeout(() => statusAbort.abort(), opts.signal.aborted ? 0 : STATUS_GRACE_MS);
    await status;
    clearTimeout(timer);
    await session.close().catch(() => undefined);
    await server.close().catch(() => undefined);
    for (const store of stores.values()) await store.close().catch(() => undefined);
  }
}

/** BuildKit's client gives a frontend the cache imports as its `cache-imports` option (JSON). */
function frontendCacheImports(opts: RemoteSolveOptions): { "cache-imports"?: string } {
  const imports = opts.cacheImports ?? [];
  if (!opts.frontend || imports.length === 0) return {};
  return { "cache-imports": JSON.stringify(imports.map((e) => ({ Type: e.type, Attrs: { ...e.attrs } }))) };
}

function cacheOptions(opts: RemoteSolveOptions): { Cache?: { Exports: object[]; Imports: object[] } } {
  const exports = opts.cacheExports ?? [];
  const imports = opts.cacheImports ?? [];
  if (exports.length === 0 && imports.length === 0) return {};
  const entry = (e: CacheEntry) => ({ Type: e.type, Attrs: { ...e.attrs } });
  return { Cache: { Exports: exports.map(entry), Imports: imports.map(entry) } };
}

/** Feeds the build's progress to `progress` until the daemon ends the stream or `signal` fires. */
async function streamStatus(channel: Channel, ref: string, progress: ProgressWriter, signal: AbortSignal): Promise<void> {
  try {
    for await (const res of channel.serverStream(ControlService.methods.Status, { Ref: ref }, { signal })) {
      for (const event of eventsOfStatus(res)) progress.write(event);
    }
  } catch {
    // Progress is best effort: the build's outcome comes from Solve.
  }
}
