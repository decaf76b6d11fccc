import { BuildkitError } from "../../errors.ts";
import type { Platform } from "../../llb/platform.ts";
import type { pb } from "../../pb/index.ts";
import { sourceAdapter, type SourceTableDeps } from "../../sources/index.ts";
import type { Worker } from "../../worker/worker.ts";
import type { OpAdapter, OpResolver } from "../op.ts";

/** What the op adapters need: the worker, result refs, the client's session, the source table's parts. */
export type OpDeps = SourceTableDeps;

/** The op's platform, or the worker's own. */
function platformOf(op: pb.Op, worker: Worker): Platform {
  const p = op.platform;
  if (p?.OS && p.Architecture) return { os: p.OS, architecture: p.Architecture, variant: p.Variant || undefined };
  return worker.platforms[0] ?? { os: "linux", architecture: "amd64" };
}

/**
 * An exec, file, merge or diff adapter whose module (containers, the copier, tree diffs) loads
 * when the op first runs: a fully cached build loads none of them. These adapters have only
 * `exec`; one that gained a key method would be hidden by this wrapper, so that is an error.
 */
function loadedOnRun(what: string, load: () => Promise<OpAdapter>): OpAdapter {
  let adapter: Promise<OpAdapter> | undefined;
  const get = () =>
    (adapter ??= load().then((a) => {
      if (a.contentKey || a.inputKey || a.remoteKeys) throw new BuildkitError("Internal", `${what} adapter has key methods: resolve it eagerly in createOpResolver`);
      return a;
    }));
  return { exec: async (inputs, ctx) => (await get()).exec(inputs, ctx) };
}

/** The adapters of ops that only run (no key methods), by op type, each from its module. */
const LOADED_ON_RUN: Readonly<Record<"exec" | "file" | "merge" | "diff", (op: pb.Op, deps: OpDeps) => Promise<OpAdapter>>> = {
  exec: async (op, deps) => (await import("./exec.ts")).execAdapter(op.exec!, deps),
  file: async (op, deps) => (await import("./file.ts")).fileAdapter(op.file!, deps),
  merge: async (op, deps) => (await import("./merge-diff.ts")).mergeAdapter(op.merge!, deps),
  diff: async (op, deps) => (await import("./merge-diff.ts")).diffAdapter(op.diff!, deps),
};

/** Picks the adapter for each op of a definition: one per op type, sources by scheme. */
export function createOpResolver(deps: OpDeps): OpResolver {
  return (loaded) => {
    const op = loaded.op;
    switch (op.op) {
      case "exec":
      case "file":
      case "merge":
      case "diff": {
        const load = LOADED_ON_RUN[op.op];
        return loadedOnRun(op.op, () => load(op, deps));
      }
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
