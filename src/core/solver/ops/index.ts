import { BuildkitError } from "../../errors.ts";
import type { CacheMounts } from "../../cache/cache-mounts.ts";
import type { SnapshotRefs } from "../../cache/refs.ts";
import { join } from "node:path";
import { gitSource } from "../../sources/git/index.ts";
import { localSource, type LocalDirs } from "../../sources/local/source.ts";
import { schemeOf } from "../../sources/source.ts";
import type { Worker } from "../../worker/worker.ts";
import type { OpResolver } from "../op.ts";
import { execAdapter, type ExecSessionInputs } from "./exec.ts";
import { fileAdapter } from "./file.ts";
import { diffAdapter, mergeAdapter } from "./merge-diff.ts";

export interface OpDeps {
  readonly worker: Worker;
  readonly refs: SnapshotRefs;
  readonly cacheMounts: CacheMounts;
  readonly session: ExecSessionInputs;
  readonly local: LocalDirs;
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
        if (scheme === "git") return gitSource(op.source!, { ...deps, gitCacheDir: join(deps.worker.root, "git") });
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
