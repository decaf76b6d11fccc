import { writeTreeDiff } from "../../fs/tree-diff.ts";
import type { pb } from "../../pb/index.ts";
import type { SnapshotRefs } from "../../cache/refs.ts";
import type { Worker } from "../../worker/worker.ts";
import { BuildkitError } from "../../errors.ts";
import type { OpAdapter } from "../op.ts";
import { buildSnapshot, newId, withView } from "../../worker/snapshots.ts";

interface Deps {
  readonly worker: Worker;
  readonly refs: SnapshotRefs;
}

/** Inputs copied by one `cp`: few processes, and argv stays far below ARG_MAX. */
const MERGE_BATCH = 64;

/**
 * MergeOp: the inputs' filesystems stacked, later ones on top. The first input is the parent
 * of the new snapshot (no copy); the others are copied over it, a batch of them mounted at
 * once and copied by one process, so the cost follows the files, not the number of inputs.
 */
export function mergeAdapter(op: pb.MergeOp.$Properties, deps: Deps): OpAdapter {
  return {
    async exec(inputs, ctx) {
      const order = (op.inputs ?? []).map((m) => inputs[m.input ?? 0]!);
      const [first, ...rest] = order;
      const name = await buildSnapshot(deps.worker, first?.id, async (dir) => {
        for (let i = 0; i < rest.length; i += MERGE_BATCH) {
          ctx.signal.throwIfAborted();
          const batch = rest.slice(i, i + MERGE_BATCH).map((ref) => ref.id);
          await withViews(deps.worker, batch, (srcs) => copyOver(srcs, dir));
        }
      });
      return [deps.refs.ref(name)];
    },
  };
}

/** Runs fn with read-only views of several snapshots mounted at once, in order. */
async function withViews<T>(worker: Worker, names: readonly string[], fn: (dirs: string[]) => Promise<T>, dirs: string[] = []): Promise<T> {
  const [name, ...rest] = names;
  if (name === undefined) return fn(dirs);
  const key = newId("view");
  const mounts = await worker.snapshotter.view(key, name);
  try {
    const next = (dir: string) => withViews(worker, rest, fn, [...dirs, dir]);
    // A one-layer view is a read-only bind of a directory: cp reads that directory directly.
    const [only] = mounts;
    if (mounts.length === 1 && only?.type === "bind") return await next(only.source);
    return await worker.withMounted(mounts, next);
  } finally {
    await worker.snapshotter.remove(key);
  }
}

/** DiffOp: what upper adds or changes on top of lower, as a filesystem of its own. */
export function diffAdapter(op: pb.DiffOp.$Properties, deps: Deps): OpAdapter {
  return {
    async exec(inputs) {
      const pick = (idx: number | null | undefined) => ((idx ?? -1) >= 0 ? inputs[idx ?? 0]?.id : undefined);
      const lower = pick(op.lower?.input);
      const upper = pick(op.upper?.input);
      const name = await buildSnapshot(deps.worker, undefined, (out) =>
        withView(deps.worker, lower, (l) => withView(deps.worker, upper, (u) => writeTreeDiff(l, u, out))),
      );
      return [deps.refs.ref(name)];
    },
  };
}

/**
 * `cp -a src1/. src2/. … dest/`: each source's contents in turn (later ones win), keeping
 * modes, owners, times, links and special files, replacing what is there.
 */
async function copyOver(srcs: readonly string[], dest: string): Promise<void> {
  const p = Bun.spawn(["cp", "-a", ...srcs.map((s) => `${s}/.`), `${dest}/`], { stderr: "pipe" });
  if ((await p.exited) !== 0) throw new BuildkitError("Internal", `merging ${srcs.length} inputs: ${(await new Response(p.stderr).text()).trim()}`);
}
