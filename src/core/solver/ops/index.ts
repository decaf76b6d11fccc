import { BuildkitError } from "../../errors.ts";
import type { CacheMounts } from "../../cache/cache-mounts.ts";
import type { SnapshotRefs } from "../../cache/refs.ts";
import { join } from "node:path";
import type { ContentIndex } from "../../content/index-db.ts";
import type { ContentStore } from "../../content/store.ts";
import type { Platform } from "../../llb/platform.ts";
import type { pb } from "../../pb/index.ts";
import type { RegistryClient } from "../../registry/index.ts";
import { localSource, type LocalDirs } from "../../sources/local/source.ts";
import { schemeOf } from "../../sources/source.ts";
import type { Worker } from "../../worker/worker.ts";
import type { OpResolver } from "../op.ts";
import { execAdapter, type ExecSessionInputs } from "./exec.ts";
import { fileAdapter } from "./file.ts";
import { lazyAdapter } from "./lazy.ts";
import { diffAdapter, mergeAdapter } from "./merge-diff.ts";

export interface OpDeps {
  readonly worker: Worker;
  readonly refs: SnapshotRefs;
  readonly cacheMounts: CacheMounts;
  readonly session: ExecSessionInputs;
  readonly local: LocalDirs;
  /** Made on first use: only image sources need it. */
  readonly registry: () => Promise<RegistryClient>;
  readonly content: ContentStore;
  readonly index: ContentIndex;
}

/** The op's platform, or the worker's own. */
function platformOf(op: pb.Op, worker: Worker): Platform {
  const p = op.platform;
  if (p?.OS && p.Architecture) return { os: p.OS, architecture: p.Architecture, variant: p.Variant || undefined };
  return worker.platforms[0] ?? { os: "linux", architecture: "amd64" };
}

/** Picks the adapter for each op of a definition: one per op type, sources by scheme. */
export function createOpResolver(deps: OpDeps): OpResolver {
  return (loaded) => {
    const op = loaded.op;
    switch (op.op) {
      case "exec":
        return execAdapter(op.exec!, deps);
      case "file":
        return fileAdapter(op.file!, deps);
      case "merge":
        return mergeAdapter(op.merge!, deps);
      case "diff":
        return diffAdapter(op.diff!, deps);
      case "source": {
        const id = op.source!.identifier ?? "";
        const scheme = schemeOf(id);
        if (scheme === "local") return localSource(op.source!, deps);
        const source = op.source!;
        if (scheme === "docker-image") {
          const platform = platformOf(op, deps.worker);
          return lazyAdapter(async () => (await import("../../sources/image/source.ts")).imageSource(source, platform, { ...deps, registry: await deps.registry() }));
        }
        if (scheme === "git") {
          return lazyAdapter(async () => (await import("../../sources/git/index.ts")).gitSource(source, { ...deps, gitCacheDir: join(deps.worker.root, "git") }));
        }
        if (scheme === "http" || scheme === "https") {
          return lazyAdapter(async () => (await import("../../sources/http/index.ts")).httpSource(source, { ...deps, httpCacheDir: join(deps.worker.root, "http") }));
        }
        throw new BuildkitError("Unimplemented", `source ${id}: ${scheme || "this"} sources are not supported yet`);
      }
      case "build":
        throw new BuildkitError("Unimplemented", "build ops are not supported");
      case undefined:
        throw new BuildkitError("InvalidArgument", `op ${loaded.digest} has no type`);
      default: {
        const never: never = op.op;
        throw new BuildkitError("Unimplemented", `op type ${String(never)}`);
      }
    }
  };
}
