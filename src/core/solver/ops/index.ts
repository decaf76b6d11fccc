import { BuildkitError } from "../../errors.ts";
import type { Platform } from "../../llb/platform.ts";
import type { pb } from "../../pb/index.ts";
import { sourceAdapter, type SourceTableDeps } from "../../sources/index.ts";
import type { Worker } from "../../worker/worker.ts";
import type { OpResolver } from "../op.ts";
import { execAdapter } from "./exec.ts";
import { fileAdapter } from "./file.ts";
import { diffAdapter, mergeAdapter } from "./merge-diff.ts";

/** What the op adapters need: the worker, result refs, the client's session, the source table's parts. */
export type OpDeps = SourceTableDeps;

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
      case "source":
        return sourceAdapter(op.source!, platformOf(op, deps.worker), deps);
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
