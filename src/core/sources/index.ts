/**
 * The source table: which adapter serves an identifier's scheme. Every source loads its modules
 * (the local walker and copier, the registry client, simple-git, …) only when a build has such a
 * source, so a build without them does not pay for loading them.
 */
import type { CacheMounts } from "../cache/cache-mounts.ts";
import type { ContentIndex } from "../content/index-db.ts";
import type { ContentStore } from "../worker/content-store.ts";
import { BuildkitError } from "../errors.ts";
import { statePath } from "../worker/storage.ts";
import type { Platform } from "../llb/platform.ts";
import type { pb } from "../pb/index.ts";
import type { RegistryClient } from "../registry/index.ts";
import type { BuildSession } from "../session/session.ts";
import type { OpAdapter } from "../solver/op.ts";
import { lazyAdapter } from "./lazy.ts";
import type { StatCache } from "./local/stat-cache.ts";
import type { SourceDeps } from "./source.ts";

/** Everything any source may need; each takes its part. */
export interface SourceTableDeps extends SourceDeps {
  readonly session: BuildSession;
  /** Opened by the first local source only (its module loads with it). */
  readonly statCache: () => Promise<StatCache>;
  readonly cacheMounts: CacheMounts;
  /** Made on first use: only image sources need it. */
  readonly registry: () => Promise<RegistryClient>;
  readonly content: ContentStore;
  readonly index: ContentIndex;
}

type SourceFactory = (op: pb.SourceOp.$Properties, platform: Platform, deps: SourceTableDeps) => OpAdapter;

const httpSource: SourceFactory = (op, _platform, deps) =>
  lazyAdapter(async () => (await import("./http/index.ts")).httpSource(op, { ...deps, httpCacheDir: statePath(deps.worker.root, "http") }));

export const SOURCES: Readonly<Record<string, SourceFactory>> = {
  local: (op, _platform, deps) =>
    lazyAdapter(async () => (await import("./local/source.ts")).localSource(op, { worker: deps.worker, refs: deps.refs, session: deps.session, statCache: await deps.statCache() })),
  "docker-image": (op, platform, deps) =>
    lazyAdapter(async () => {
      // Not a spread of deps: that would read (and so open) the stat cache and the content
      // index, which a cached pinned image never needs; nor does it need the registry client.
      const imageDeps = { worker: deps.worker, refs: deps.refs, content: deps.content, registry: deps.registry, get index() { return deps.index; } };
      return (await import("./image/source.ts")).imageSource(op, platform, imageDeps);
    }),
  "oci-layout": (op, platform, deps) =>
    lazyAdapter(async () => {
      const ociDeps = { worker: deps.worker, refs: deps.refs, content: deps.content, session: deps.session, get index() { return deps.index; } };
      return (await import("./oci-layout/source.ts")).ociLayoutSource(op, platform, ociDeps);
    }),
  git: (op, _platform, deps) => lazyAdapter(async () => (await import("./git/index.ts")).gitSource(op, { ...deps, gitCacheDir: statePath(deps.worker.root, "git") })),
  http: httpSource,
  https: httpSource,
};

export function schemeOf(identifier: string): string {
  const i = identifier.indexOf("://");
  return i < 0 ? "" : identifier.slice(0, i);
}

/** The adapter for a source op; Unimplemented for a scheme this engine does not serve. */
export function sourceAdapter(op: pb.SourceOp.$Properties, platform: Platform, deps: SourceTableDeps): OpAdapter {
  const id = op.identifier ?? "";
  const scheme = schemeOf(id);
  const factory = Object.hasOwn(SOURCES, scheme) ? SOURCES[scheme] : undefined;
  if (factory === undefined) throw new BuildkitError("Unimplemented", `source ${id}: ${scheme || "this"} sources are not supported yet`);
  return factory(op, platform, deps);
}
