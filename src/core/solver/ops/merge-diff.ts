import { writeTreeDiff } from "../../fs/tree-diff.ts";
import type { pb } from "../../pb/index.ts";
import type { SnapshotRefs } from "../../cache/refs.ts";
import type { Worker } from "../../worker/worker.ts";
import { BuildkitError } from "../../errors.ts";
import type { OpAdapter } from "../op.ts";
import { buildSnapshot, withView } from "../../worker/snapshots.ts";

interface Deps {
  readonly worker: Worker;
  readonly refs: SnapshotRefs;
}

/**
 * MergeOp: the inputs' filesystems stacked, later ones on top. The first input is the parent
 * of the new snapshot (no copy); the others are copied over it.
 */
export function mergeAdapter(op: pb.MergeOp.$Properties, deps: Deps): OpAdapter {
  return {
    async exec(inputs, ctx) {
      const order = (op.inputs ?? []).map((m) => inputs[m.input ?? 0]!);
      const [first, ...rest] = order;
      const name = await buildSnapshot(deps.worker, first?.id, async (dir) => {
        for (const ref of rest) {
          ctx.signal.throwIfAborted();
          await withView(deps.worker, ref.id, (src) => copyOver(src, dir));
        }
      });
      return [deps.refs.ref(name)];
    },
  };
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

/** `cp -a src/. dest`: keeps modes, owners, times, links and special files, replaces what is there. */
async function copyOver(src: string, dest: string): Promise<void> {
  const p = Bun.spawn(["cp", "-a", "--no-target-directory", `${src}/.`, dest], { stderr: "pipe" });
  if ((await p.exited) !== 0) throw new BuildkitError("Internal", `merging ${src}: ${(await new Response(p.stderr).text()).trim()}`);
}
